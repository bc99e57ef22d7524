import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `on_error: continue`: a step that failed for good ends in its error state and the sequence goes on,
/// decided with the failure (one event), so a restart cannot decide otherwise.
@Suite struct OnErrorTests {
    static let upstream = RunnerError(.upstreamError, "400 bad request", details: ["status": 400], retryable: false)

    /// a (write, on_error: continue) fails; b reads a's state and error; c refers to a's output.
    static func plan(cReadsA: Bool = false) -> Plan {
        Fixtures.plan([("a", "write"), ("b", "pure"), ("c", "pure")], extra: [
            "a": ["on_error": "continue"],
            "b": ["when": "$.steps.a.state == 'error' and $.steps.a.error.code == 'upstream_error'"],
            "c": cReadsA ? ["input": ["v": "{{ steps.a.output.x }}"]] : [:],
        ])
    }

    /// Starts, releases a's journaled dispatch, and fails it.
    static func failA(_ m: inout ExecutionMachine) -> [MachineCommand] {
        _ = m.handle(.start(acknowledge: false, at: 1))
        _ = m.handle(.journaled(upTo: m.state.lastSeq, at: 2))
        return m.handle(.stepReturned(step: 0, attempt: 1, outcome: .failed(upstream, Receipt()), jitter: 0, at: 3))
    }

    @Test func aFailureForGoodContinuesAndLaterStepsSeeItsStateAndError() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan())
        let out = Self.failA(&m)
        #expect(out.journaled.map(\.event.kind) == ["step.failed"])
        guard case .stepFailed(_, _, .error, _, _, _, nil, true, false)? = out.journaled.first?.event else {
            Issue.record("not journaled as a failure that continues: \(out)")
            return
        }
        #expect(out.dispatches.map(\.step) == [1], "b runs: its condition saw a's state and error")
        _ = m.handle(.stepReturned(step: 1, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 4))
        let end = m.handle(.stepReturned(step: 2, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 5))
        #expect(end.isEmpty || end.finished == nil, "the end is announced once durable")
        _ = m.handle(.journaled(upTo: m.state.lastSeq, at: 6))
        #expect(m.state.phase == .finished(.completed, nil))
        #expect(m.state.steps[0].status == .continued)
        #expect(m.outputs["a"] == nil)
    }

    @Test func aReferenceToTheOutputOfAContinuedStepFailsClearly() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan(cReadsA: true))
        _ = Self.failA(&m)
        _ = m.handle(.stepReturned(step: 1, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 4))
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.pointer == "/steps/2/input/v")
        #expect(e.message.contains("step \"a\" failed (on_error: continue)"), "\(e.message)")
    }

    @Test func aCancelOrAnUnknownOutcomeIsNotContinuedPast() {
        // A cancel asked while a was in flight: its failure ends the execution cancelled.
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan())
        _ = m.handle(.start(acknowledge: false, at: 1))
        _ = m.handle(.journaled(upTo: m.state.lastSeq, at: 2))
        _ = m.handle(.cancel(at: 3))
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .failed(RunnerError(.cancelled, "stopped"), Receipt()),
                                   jitter: 0, at: 4))
        #expect(m.state.phase.state == .cancelled)
        // In flight at a crash: the write may have happened, so the execution does not go on as if it failed.
        var live = ExecutionMachine(id: Fixtures.id, plan: Self.plan())
        let history = live.handle(.start(acknowledge: false, at: 1)).journaled  // submitted, a dispatched
        var resumed = ExecutionMachine(id: Fixtures.id, plan: Self.plan())
        resumed.fold(history)
        _ = resumed.handle(.recovered(at: 9))
        #expect(resumed.state.phase.state == .failed)
        #expect(resumed.state.steps[0].attempts.last?.state == .unknown)
    }

    @Test func aRefusedInputContinuesToo() {
        let plan = Fixtures.plan([("a", "pure"), ("b", "pure")], extra: ["a": ["on_error": "continue"]])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let error = RunnerError(.notFound, "secret token is not set", pointer: "/steps/0/input/x")
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .refused(error), jitter: 0, at: 2))
        #expect(out.dispatches.map(\.step) == [1])
        #expect(m.state.steps[0].status == .continued)
    }

    @Test func aRetryableFailureIsRetriedFirst() {
        let plan = Fixtures.plan([("a", "read"), ("b", "pure")], extra: ["a": ["on_error": "continue"]])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let gone = StepOutcome.failed(RunnerError(.layerUnavailable, "gone"), Receipt())
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: gone, jitter: 0, at: 2))
        #expect(out.timers.count == 1 && out.dispatches.isEmpty, "the retry rule comes before on_error")
    }
}
