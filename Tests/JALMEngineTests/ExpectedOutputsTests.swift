import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `expected_outputs`: an output that breaks an expectation fails its step with `assertion_failed`,
/// decided once when the output arrives and journaled with the attempt.
@Suite struct ExpectedOutputsTests {
    static func plan(_ expectations: JSONValue, retry: JSONValue? = nil, onError: String? = nil) -> Plan {
        var extra: [String: JSONValue] = ["expected_outputs": expectations]
        if let retry { extra["retry"] = retry }
        if let onError { extra["on_error"] = .string(onError) }
        return Fixtures.plan([("a", "read"), ("b", "pure")], extra: ["a": .object(extra)], vars: ["min": 2])
    }

    /// Starts the plan and answers a's first attempt with `output`.
    static func answer(_ plan: Plan, _ output: JSONValue) -> (ExecutionMachine, [MachineCommand]) {
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(output, Receipt()), jitter: 0, at: 2))
        return (m, out)
    }

    @Test func anOutputThatMeetsEveryExpectationIsOk() {
        let (m, out) = Self.answer(Self.plan([
            ["path": "/rows", "type": "array", "schema": ["minItems": 1]],
            ["path": "/rows/0/id", "pattern": "^[0-9]+$"],
            ["path": "/count", "expr": "$.value >= $.vars.min and $.value == len($.output.rows)"],
        ]), ["rows": [["id": "42"], ["id": "7"]], "count": 2])
        #expect(out.dispatches.map(\.step) == [1], "\(out)")
        #expect(m.state.steps[0].status == .ok)
    }

    @Test func aBrokenTypeFailsTheStepWithItsPlaceAndTheValue() {
        let (m, out) = Self.answer(Self.plan([["path": "/rows", "type": "array"]]), ["rows": ["n": 1]])
        guard case .stepFailed(0, 1, .error, _?, _, let error, nil, false, false)? = out.journaled.first?.event else {
            Issue.record("\(out)")
            return
        }
        #expect(error.code == .assertionFailed && !error.retryable)
        #expect(error.pointer == "/steps/0/expected_outputs/0")
        #expect(error.message == "output /rows must be an array, got object", "\(error.message)")
        #expect(error.details == ["path": "/rows", "value": ["n": 1]])
        guard case .finished(.failed, let end?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(end.pointer == "/steps/0/expected_outputs/0", "the execution's error keeps the entry's place")
        #expect(end.message == "step a (t.read) failed: output /rows must be an array, got object", "\(end.message)")
    }

    @Test func aMissingPathAFalseExprAndTheAuthorsMessageAreNamed() {
        let missing = Self.answer(Self.plan([["path": "/status", "type": "integer"]]), ["code": 200]).1
        #expect(missing.journaled.first?.event.error?.message == "output /status is missing")
        let low = Self.answer(Self.plan([["path": "/n", "expr": "$.value > 10", "message": "too few rows"]]), ["n": 3]).1
        let e = low.journaled.first?.event.error
        #expect(e?.message == "too few rows: output /n does not satisfy $.value > 10", "\(String(describing: e))")
        #expect(e?.details?["value"] == 3)
        let deep = Self.answer(Self.plan([["schema": ["type": "object", "required": ["id"]]]]), ["name": "x"]).1
        #expect(deep.journaled.first?.event.error?.message == "the output \"id\" is required")
    }

    @Test func aLargeValueIsNamedNotCopied() {
        let big = JSONValue.string(String(repeating: "x", count: 600))
        let out = Self.answer(Self.plan([["path": "/s", "expr": "$.value == 'short'"]]), ["s": big]).1
        #expect(out.journaled.first?.event.error?.details?["value"] == "(string, 602 bytes)")
    }

    @Test func anExprThatCannotBeDecidedFailsTheStepAtTheExpr() {
        let out = Self.answer(Self.plan([["path": "/n", "expr": "$.value + 1"]]), ["n": 3]).1
        let e = out.journaled.first?.event.error
        #expect(e?.code == .invalidInput && e?.pointer == "/steps/0/expected_outputs/0/expr", "\(String(describing: e))")
        #expect(e?.message.contains("must give a boolean, got integer") == true)
    }

    @Test func retryOnAssertionFailedCallsAgainUntilTheOutputIsReady() {
        let plan = Self.plan([["path": "/ready", "type": "boolean", "expr": "$.value"]],
                             retry: ["max": 3, "base": "10ms", "jitter": 0, "retry_on": ["assertion_failed"]])
        var (m, out) = Self.answer(plan, ["ready": false])
        #expect(out.timers.map(\.2) == [12], "a retry 10 ms later: \(out)")
        _ = m.handle(.retryDue(step: 0, attempt: 1, at: 12))
        let ready = m.handle(.stepReturned(step: 0, attempt: 2, outcome: .ok(["ready": true], Receipt()), jitter: 0, at: 13))
        #expect(ready.dispatches.map(\.step) == [1])
        #expect(m.state.steps[0].attempts.map(\.state) == [.error, .ok])
    }

    @Test func onErrorContinueCoversABrokenExpectation() {
        let (m, out) = Self.answer(Self.plan([["path": "/ok", "schema": ["const": true]]], onError: "continue"), ["ok": false])
        #expect(out.dispatches.map(\.step) == [1])
        #expect(m.state.steps[0].status == .continued)
    }

    @Test func recoveryFoldsTheVerdictAndDoesNotDecideAgain() {
        let plan = Self.plan([["path": "/rows", "type": "array"]])
        let (_, out) = Self.answer(plan, ["rows": 1])
        var resumed = ExecutionMachine(id: Fixtures.id, plan: plan)
        resumed.fold(out.journaled)
        #expect(resumed.handle(.recovered(at: 9)).dispatches.isEmpty)
        #expect(resumed.state.phase.state == .failed)
    }
}

extension ExecutionEvent {
    var error: RunnerError? {
        if case .stepFailed(_, _, _, _, _, let error, _, _, _) = self { return error }
        return nil
    }
}
