import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// The step lifecycle, events in → commands out: every side effect × error code × retryable flag.
@Suite struct MachineStepTests {
    /// Starts a one-step execution and returns the machine with its attempt 1 in flight.
    func started(_ op: String, retry: JSONValue? = nil) -> (ExecutionMachine, [MachineCommand]) {
        var extra: [String: JSONValue] = [:]
        if let retry { extra["s"] = ["retry": retry] }
        var m = ExecutionMachine(id: Fixtures.id, plan: Fixtures.plan([("s", op)], extra: extra))
        var commands = m.handle(.start(acknowledge: false, at: 1000))
        if m.state.steps[0].status == .awaitingJournal(attempt: 1) {
            #expect(commands.dispatches.isEmpty, "a write must wait for its journaled dispatch")
            commands += m.handle(.journaled(upTo: m.state.lastSeq, at: 1001))
        }
        return (m, commands)
    }

    @Test(arguments: ["pure", "read", "write", "external", "idem"])
    func theFirstAttemptIsJournaledAsTheSideEffectRequires(op: String) {
        var m = ExecutionMachine(id: Fixtures.id, plan: Fixtures.plan([("s", op)]))
        let first = m.handle(.start(acknowledge: false, at: 1000))
        let kinds = first.journaled.map(\.event.kind)
        switch op {
        case "write", "external":
            #expect(kinds == ["submitted", "step.dispatched"])
            #expect(first.durability == .durable)
            #expect(first.dispatches.isEmpty)
            let released = m.handle(.journaled(upTo: 2, at: 1002))
            #expect(released.dispatches.map(\.attempt) == [1])
            #expect(released.dispatches.first?.idempotencyKey == "\(Fixtures.id)/s/1")
        case "idem":
            #expect(kinds == ["submitted", "step.dispatched"])
            #expect(first.durability == .group)
            #expect(first.dispatches.first?.idempotencyKey == "\(Fixtures.id)/s/1")
        default:
            #expect(kinds == ["submitted"])
            #expect(first.durability == .group)
            #expect(first.dispatches.map(\.attempt) == [1])
            #expect(first.dispatches.first?.idempotencyKey == nil)
        }
    }

    @Test func anAcknowledgedSubmissionIsDurableBeforeItIsAcknowledged() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Fixtures.plan([("s", "read")]))
        let first = m.handle(.start(acknowledge: true, at: 1))
        #expect(first.durability == .durable)
        #expect(!first.contains(.acknowledge))
        #expect(first.dispatches.count == 1, "a read goes out without waiting for the acknowledgement")
        #expect(m.handle(.journaled(upTo: 1, at: 2)) == [.acknowledge])
    }

    /// For every op × code × retryable: the failure is journaled with `retryable` as the layer said it, and
    /// the retry decision follows the rule for the op's side effect (defaults: 2 retries for none/read and
    /// idempotent writes, none for write/external).
    @Test(arguments: ["pure", "read", "write", "external", "idem"], ErrorCode.allCases)
    func aFailureIsRetriedOnlyWhenTheRuleAndTheFlagSaySo(op: String, code: ErrorCode) {
        for retryable in [false, true] {
            var (m, _) = started(op)
            let error = RunnerError(code, "boom", retryable: retryable)
            let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .failed(error, Receipt(pid: 7, version: "1")),
                                             jitter: 0, at: 2000))
            guard case .stepFailed(_, _, let state, _, let receipt, let journaledError, let retryAt, _, _)? =
                out.journaled.first?.event else {
                Issue.record("no failure journaled: \(out)")
                continue
            }
            #expect(journaledError.retryable == retryable, "the flag is journaled as the layer said it")
            #expect(receipt == Receipt(pid: 7, version: "1"))
            #expect(state == (code == .timeout ? .timedOut : code == .cancelled ? .cancelled : .error))
            let repeats = op == "pure" || op == "read" || op == "idem"
            if repeats && retryable {
                #expect(retryAt == Int64(2200), "first retry after base 200ms (jitter 0)")
                #expect(out.timers.map(\.1) == [1])
                #expect(out.finished == nil)
                #expect(m.state.phase == .running)
            } else {
                #expect(retryAt == nil)
                #expect(out.timers.isEmpty)
                guard case .finished(.failed, let e?) = m.state.phase else {
                    Issue.record("not failed: \(m.state.phase)")
                    continue
                }
                #expect(e.code == code)
                #expect(e.retryable == retryable)
                #expect(e.pointer == "/steps/0")
                #expect(e.message == "step s (t.\(op)) failed: boom")
            }
        }
    }

    @Test func retriesStopAtTheRuleMaximumAndTheAttemptNumbersKeepCounting() {
        var (m, _) = started("read", retry: ["max": 2, "base": "10ms", "jitter": 0])
        let gone = RunnerError(.layerUnavailable, "gone")
        for attempt in 1...3 {
            let out = m.handle(.stepReturned(step: 0, attempt: attempt, outcome: .failed(gone, Receipt()), jitter: 0.5,
                                             at: Int64(attempt) * 100))
            if attempt < 3 {
                #expect(out.timers.count == 1)
                let (_, n, at) = out.timers[0]
                #expect(at == Int64(attempt) * 100 + 10 * (1 << (attempt - 1)))
                let next = m.handle(.retryDue(step: 0, attempt: n, at: at))
                #expect(next.dispatches.map(\.attempt) == [attempt + 1])
            } else {
                #expect(out.finished == nil, "the end waits until it is durable")
                #expect(m.state.phase.state == .failed)
            }
        }
        #expect(m.state.steps[0].attempts.map(\.number) == [1, 2, 3])
    }

    @Test func aRetryOnListRetriesOnlyItsCodesEvenWhenTheFlagSaysNo() {
        var (m, _) = started("write", retry: ["max": 1, "retry_on": ["upstream_error"]])
        let out = m.handle(.stepReturned(step: 0, attempt: 1,
                                         outcome: .failed(RunnerError(.upstreamError, "502", retryable: false), Receipt()),
                                         jitter: 0, at: 10))
        #expect(out.timers.count == 1)
    }

    @Test func anOutputEndsTheStepAndTheEndIsAnnouncedOnlyOnceDurable() {
        var (m, _) = started("pure")
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(["y": 2], Receipt(pid: 3, version: "v")),
                                         jitter: 0, at: 1500))
        #expect(out.journaled.map(\.event.kind) == ["step.ok", "finished"])
        #expect(out.durability == .durable)
        #expect(out.finished == nil)
        let done = m.handle(.journaled(upTo: m.state.lastSeq, at: 1501))
        #expect(done.finished?.0 == .completed)
        #expect(m.outputs == ["s": ["y": 2]])
    }

    @Test func aReplyForAnAttemptNoLongerRunningChangesNothing() {
        var (m, _) = started("pure")
        let before = m.state
        #expect(m.handle(.stepReturned(step: 0, attempt: 2, outcome: .ok([:], Receipt()), jitter: 0, at: 5)).isEmpty)
        #expect(m.state == before)
    }

    @Test func aRefusedCallFailsTheExecutionWithTheCapsulesOwnError() {
        var (m, _) = started("pure")
        let error = RunnerError(.invalidInput, "template {{ vars.x }}: no var x", pointer: "/steps/0/input/x")
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .refused(error), jitter: 0, at: 5))
        #expect(m.state.phase == .finished(.failed, error))
    }

    @Test func aFalseConditionSkipsAndAReferenceToASkippedStepFails() {
        let plan = Fixtures.plan([("a", "pure"), ("b", "pure")], extra: [
            "a": ["when": "$.vars.go"],
            "b": ["input": ["v": "{{ steps.a.output.x }}"]],
        ], vars: ["go": false])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        let out = m.handle(.start(acknowledge: false, at: 1))
        #expect(out.journaled.map(\.event.kind) == ["submitted", "step.skipped", "step.failed", "finished"])
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.code == .invalidInput)
        #expect(e.pointer == "/steps/1/input/v")
    }

    @Test func aConditionThatCannotBeEvaluatedFailsAtItsPointer() {
        let plan = Fixtures.plan([("a", "pure")], extra: ["a": ["when": "$.vars.n > 'x'"]], vars: ["n": 1])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.pointer == "/steps/0/when")
    }
}
