import Testing
@testable import JALMCore

@Suite struct SupervisorStateMachineTests {
    let t0 = ContinuousClock.now
    let policy = RestartPolicy(maxRestarts: 3, window: .seconds(60), baseDelay: .milliseconds(100),
                               maxDelay: .seconds(1), stableAfter: .seconds(10))

    @Test func aProcessThatExitsIsRestartedWithDoublingBackoff() {
        var m = SupervisorStateMachine(policy: policy)
        #expect(m.start() == .spawn)
        m.spawned(at: t0)
        #expect(m.failed(at: t0 + .seconds(1), reason: "exit") == .respawn(after: .milliseconds(100)))
        #expect(m.backoffElapsed(at: t0 + .seconds(1) + .milliseconds(100)) == .spawn)
        m.spawned(at: t0 + .seconds(2))
        #expect(m.failed(at: t0 + .seconds(2), reason: "exit") == .respawn(after: .milliseconds(200)))
    }

    @Test func moreRestartsThanTheLimitWithinTheWindowQuarantines() {
        var m = SupervisorStateMachine(policy: policy)
        _ = m.start()
        for i in 0..<3 {
            m.spawned(at: t0 + .seconds(i))
            if case .quarantine = m.failed(at: t0 + .seconds(i), reason: "crash") { Issue.record("too early") }
        }
        m.spawned(at: t0 + .seconds(3))
        guard case .quarantine(let why) = m.failed(at: t0 + .seconds(3), reason: "crash") else {
            Issue.record("expected quarantine"); return
        }
        #expect(why.contains("crash"))
        #expect(m.quarantineReason != nil)
    }

    @Test func restartsOutsideTheWindowDoNotCount() {
        var m = SupervisorStateMachine(policy: policy)
        _ = m.start()
        for i in 0..<10 {
            m.spawned(at: t0 + .seconds(i * 30))
            m.greeted(at: t0 + .seconds(i * 30))
            if case .quarantine = m.failed(at: t0 + .seconds(i * 30 + 20), reason: "x") { Issue.record("quarantined") }
        }
    }

    @Test func aStableProcessResetsTheBackoff() {
        var m = SupervisorStateMachine(policy: policy)
        _ = m.start()
        m.spawned(at: t0)
        _ = m.failed(at: t0, reason: "x")
        m.spawned(at: t0 + .seconds(1))
        m.greeted(at: t0 + .seconds(1))
        #expect(m.failed(at: t0 + .seconds(30), reason: "x") == .respawn(after: .milliseconds(100)))
    }

    @Test func startLiftsAQuarantine() {
        var m = SupervisorStateMachine(policy: RestartPolicy(maxRestarts: 0))
        _ = m.start()
        m.spawned(at: t0)
        guard case .quarantine = m.failed(at: t0, reason: "x") else { Issue.record("expected quarantine"); return }
        #expect(m.start() == .spawn)
        #expect(m.restarts.isEmpty)
    }

    @Test func aDrainedProcessIsNotRestarted() {
        var m = SupervisorStateMachine(policy: policy)
        _ = m.start()
        m.spawned(at: t0)
        m.greeted(at: t0)
        m.drain()
        #expect(m.failed(at: t0 + .seconds(1), reason: "exit 0") == SupervisorStateMachine.Action.none)
        #expect(m.state == .stopped)
    }
}
