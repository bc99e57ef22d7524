import Testing
@testable import JALMCore

@Suite struct NotifyPlanTests {
    let t0 = ContinuousClock.now

    func look(_ phase: NotifyPlan.Phase = .running, ready: Int = 6, listeners: Int = 1, recovered: Bool = true,
              running: Int = 0) -> NotifyPlan.Observation {
        NotifyPlan.Observation(phase: phase, layersReady: ready, layers: 6,
                               layersDown: ready < 6 ? ["io-http"] : [], listenersUp: listeners, listeners: 1,
                               recovered: recovered, running: running)
    }

    @Test func readyWaitsForEveryLayerEveryListenerAndRecovery() {
        var plan = NotifyPlan(watchdogInterval: nil)
        #expect(plan.tick(look(.starting, ready: 2), now: t0) == ["STATUS=starting layers: 2/6 ready; waiting for io-http"])
        #expect(plan.tick(look(ready: 5), now: t0).contains("READY=1") == false)
        #expect(plan.tick(look(listeners: 0), now: t0) == ["STATUS=opening listeners: 0/1"])
        #expect(plan.tick(look(recovered: false), now: t0) == ["STATUS=resuming unfinished executions"])
        #expect(plan.tick(look(), now: t0) == ["READY=1", "STATUS=ready: 0 executions running, 6 layers"])
    }

    @Test func readyIsSentOnceAndStatusOnlyWhenItChanges() {
        var plan = NotifyPlan(watchdogInterval: nil)
        _ = plan.tick(look(), now: t0)
        #expect(plan.tick(look(), now: t0).isEmpty)
        #expect(plan.tick(look(ready: 5), now: t0) == ["STATUS=starting layers: 5/6 ready; waiting for io-http"])
        #expect(plan.tick(look(running: 1), now: t0) == ["STATUS=ready: 1 execution running, 6 layers"])
    }

    @Test func watchdogPingsAtItsIntervalOnly() {
        var plan = NotifyPlan(watchdogInterval: .seconds(5))
        #expect(plan.tick(look(), now: t0).contains("WATCHDOG=1"))
        #expect(!plan.tick(look(), now: t0 + .seconds(4)).contains("WATCHDOG=1"))
        #expect(plan.tick(look(), now: t0 + .seconds(5)) == ["WATCHDOG=1"])
    }

    @Test func reloadIsBracketedByReloadingAndReady() {
        var plan = NotifyPlan(watchdogInterval: nil)
        _ = plan.tick(look(), now: t0)
        #expect(plan.tick(look(.reloading), now: t0) == ["RELOADING=1", "STATUS=reloading the configuration; 0 running"])
        #expect(plan.tick(look(), now: t0) == ["READY=1", "STATUS=ready: 0 executions running, 6 layers"])
    }

    @Test func stoppingIsSaidOnceWithTheExecutionsLeft() {
        var plan = NotifyPlan(watchdogInterval: nil)
        _ = plan.tick(look(), now: t0)
        #expect(plan.tick(look(.stopping, running: 2), now: t0) == ["STOPPING=1", "STATUS=draining: 2 executions still running"])
        #expect(plan.tick(look(.stopping, running: 2), now: t0).isEmpty)
    }

    @Test func aStartThatFailsToBecomeReadyNeverSaysReady() {
        var plan = NotifyPlan(watchdogInterval: nil)
        _ = plan.tick(look(ready: 5), now: t0)
        #expect(!plan.tick(look(.stopping, ready: 5), now: t0).contains("READY=1"))
    }
}
