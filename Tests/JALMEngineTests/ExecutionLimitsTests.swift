import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `meta.timeout` and `meta.max_steps`: limits on the whole execution, decided by the machine and
/// journaled, so that a restart neither forgets them nor decides them again.
@Suite struct ExecutionLimitsTests {
    static func plan(_ meta: JSONValue, steps: [(String, String)] = [("a", "pure"), ("b", "external")]) -> Plan {
        Fixtures.plan(steps, meta: meta)
    }

    @Test func theDeadlineIsArmedAtTheStartAndStopsTheCallInFlight() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan(["timeout": "2s"]))
        let start = m.handle(.start(acknowledge: false, at: 1000))
        #expect(start.contains(.startDeadline(at: 3000)), "\(start)")
        #expect(m.handle(.deadline(at: 2999)).isEmpty, "an early delivery changes nothing")
        let stop = m.handle(.deadline(at: 3000))
        #expect(stop.journaled.map(\.event.kind) == ["deadline.passed"])
        #expect(stop.contains(.cancelCall(step: 0, attempt: 1)))
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .failed(RunnerError(.cancelled, "stopped"), Receipt()),
                                   jitter: 0, at: 3001))
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.code == .timeout && e.pointer == "/meta/timeout")
        #expect(e.message == "the execution ran past its meta.timeout of 2s during step a", "\(e.message)")
        #expect(m.state.steps[0].attempts.last?.state == .cancelled)
    }

    @Test func aDeadlineWhileAWriteWaitsForItsJournalEndsBeforeTheCallGoesOut() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan(["timeout": 1], steps: [("w", "write")]))
        _ = m.handle(.start(acknowledge: false, at: 1000))  // w's dispatch waits for the disk
        let out = m.handle(.deadline(at: 2000))
        #expect(out.dispatches.isEmpty)
        #expect(out.journaled.map(\.event.kind) == ["deadline.passed", "step.failed", "finished"])
        _ = m.handle(.journaled(upTo: m.state.lastSeq, at: 2001))
        #expect(m.state.phase.state == .failed)
        #expect(m.state.steps[0].attempts.last?.error?.message == "the execution's meta.timeout passed before the call went out")
    }

    @Test func aDeadlineThatPassedDuringTheDowntimeStopsAtRecovery() {
        let plan = Self.plan(["timeout": "2s"])
        var live = ExecutionMachine(id: Fixtures.id, plan: plan)
        let history = live.handle(.start(acknowledge: false, at: 1000)).journaled
        var resumed = ExecutionMachine(id: Fixtures.id, plan: plan)
        resumed.fold(history)
        let out = resumed.handle(.recovered(at: 5000))
        #expect(out.dispatches.isEmpty, "nothing starts past the deadline")
        guard case .finished(.failed, let e?) = resumed.state.phase else { Issue.record("\(resumed.state.phase)"); return }
        #expect(e.code == .timeout && e.message == "the execution ran past its meta.timeout of 2s before step a", "\(e)")
        // Before the deadline, recovery arms it again for the time left.
        var early = ExecutionMachine(id: Fixtures.id, plan: plan)
        early.fold(history)
        #expect(early.handle(.recovered(at: 1500)).contains(.startDeadline(at: 3000)))
    }

    @Test func aStopDecidedBeforeTheCrashIsNotDecidedAgain() {
        let plan = Self.plan(["timeout": "2s"])
        var live = ExecutionMachine(id: Fixtures.id, plan: plan)
        var history = live.handle(.start(acknowledge: false, at: 1000)).journaled
        history += live.handle(.deadline(at: 3000)).journaled  // deadline.passed; the call's cancel is in flight
        var resumed = ExecutionMachine(id: Fixtures.id, plan: plan)
        resumed.fold(history)
        let out = resumed.handle(.recovered(at: 9000))
        #expect(!out.journaled.contains { $0.event == .deadlinePassed })
        #expect(out.dispatches.isEmpty)
        #expect(resumed.state.phase.state == .failed)
    }

    @Test func aCancelBeforeTheDeadlineEndsCancelledAndTheDeadlineThenChangesNothing() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan(["timeout": "2s"]))
        _ = m.handle(.start(acknowledge: false, at: 1000))
        _ = m.handle(.cancel(at: 1500))
        #expect(m.handle(.deadline(at: 3000)).isEmpty)
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .failed(RunnerError(.cancelled, "x"), Receipt()),
                                   jitter: 0, at: 3001))
        #expect(m.state.phase.state == .cancelled)
    }

    @Test func maxStepsCountsEveryAttemptAndStopsTheNextOne() {
        let plan = Fixtures.plan([("a", "read"), ("b", "pure"), ("c", "pure")], meta: ["max_steps": 3])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let gone = StepOutcome.failed(RunnerError(.layerUnavailable, "gone"), Receipt())
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: gone, jitter: 0, at: 2))
        _ = m.handle(.retryDue(step: 0, attempt: 1, at: 300))
        _ = m.handle(.stepReturned(step: 0, attempt: 2, outcome: .ok([:], Receipt()), jitter: 0, at: 301))
        let out = m.handle(.stepReturned(step: 1, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 302))
        #expect(out.dispatches.isEmpty, "c would be the fourth run")
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.code == .resourceExhausted && e.pointer == "/meta/max_steps", "\(e)")
        #expect(e.message == "the execution reached its meta.max_steps of 3 step runs; step c was not started")
        #expect(m.state.stepRuns == 4, "the refused start is recorded as c's failed attempt")
    }

    @Test func skippedStepsDoNotCount() {
        let plan = Fixtures.plan([("a", "pure"), ("b", "pure")], extra: ["a": ["when": "$.vars.go"]],
                                 vars: ["go": false], meta: ["max_steps": 1])
        var m = ExecutionMachine(id: Fixtures.id, plan: plan)
        #expect(m.handle(.start(acknowledge: false, at: 1)).dispatches.map(\.step) == [1])
    }
}

/// `abort`: a control step that ends the execution with its own error, decided by the machine alone.
@Suite struct AbortStepTests {
    static let plan: Plan = {
        let capsule = try! CapsuleParser.parse(["vars": ["n": 7], "steps": [
            ["id": "a", "layer": "t", "op": "pure"],
            ["id": "stop", "when": "$.vars.n > 5", "abort": ["message": "n is too large", "code": "invalid_input"]],
            ["id": "never", "layer": "t", "op": "write"],
        ]])
        return try! Plan(capsule: capsule, catalog: Fixtures.catalog)
    }()

    @Test func anAbortEndsTheExecutionWithItsErrorAndRunsNothingAfter() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 2))
        #expect(out.dispatches.isEmpty)
        #expect(out.journaled.map(\.event.kind) == ["step.ok", "step.failed", "finished"])
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e == RunnerError(.invalidInput, "n is too large", pointer: "/steps/1/abort"))
    }

    @Test func theMessageMayHoldTemplates() {
        let capsule = try! CapsuleParser.parse(["vars": ["limit": 5], "steps": [
            ["id": "a", "layer": "t", "op": "pure"],
            ["id": "stop", "abort": ["message": "{{ len(steps.a.output.rows) }} rows, over {{ vars.limit }}"]],
        ]])
        var m = ExecutionMachine(id: Fixtures.id, plan: try! Plan(capsule: capsule, catalog: Fixtures.catalog))
        _ = m.handle(.start(acknowledge: false, at: 1))
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(["rows": [1, 2, 3, 4, 5, 6, 7]], Receipt()), jitter: 0, at: 2))
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.message == "7 rows, over 5" && e.code == .conflict && e.pointer == "/steps/1/abort", "\(e)")
    }

    @Test func aCrashAfterTheAbortIsJournaledDoesNotRunAnythingAgain() {
        var live = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
        var history = live.handle(.start(acknowledge: false, at: 1)).journaled
        history += live.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok([:], Receipt()), jitter: 0, at: 2)).journaled
        for cut in 1...history.count {
            var resumed = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
            resumed.fold(Array(history.prefix(cut)))
            let out = resumed.handle(.recovered(at: 9))
            #expect(!out.dispatches.contains { $0.step == 2 }, "cut \(cut)")
        }
    }
}

/// `set`: vars assigned by the machine, journaled as the step's output, seen by the steps after it.
@Suite struct SetStepTests {
    static let plan: Plan = {
        let capsule = try! CapsuleParser.parse(["vars": ["n": 2], "steps": [
            ["id": "a", "layer": "t", "op": "pure"],
            ["id": "calc", "set": ["double": "{{ vars.n * 2 }}", "from": "{{ steps.a.output.x }}"]],
            ["id": "b", "layer": "t", "op": "write", "when": "$.vars.double == 4", "input": ["v": "{{ vars.double }}"]],
        ]])
        return try! Plan(capsule: capsule, catalog: Fixtures.catalog)
    }()

    @Test func setValuesAreJournaledAndSeenByLaterConditionsAndCalls() {
        var m = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
        _ = m.handle(.start(acknowledge: false, at: 1))
        let out = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(["x": "hi"], Receipt()), jitter: 0, at: 2))
        let set = out.journaled.first { if case .stepSucceeded(1, _, _, _, _) = $0.event { true } else { false } }
        guard case .stepSucceeded(_, _, _, _, let values)? = set?.event else { Issue.record("\(out)"); return }
        #expect(values == ["double": 4, "from": "hi"])
        _ = m.handle(.journaled(upTo: m.state.lastSeq, at: 3))  // b is a write: it waits for the disk
        #expect(m.vars["double"] == 4)
        #expect(m.call(2, attempt: 1).vars["double"] == 4, "the call renders with the assigned vars")
        #expect(m.state.steps[2].status == .running(attempt: 1), "b's when saw the assigned var")
    }

    @Test func afterACrashTheValuesAreReadBackNotComputedAgain() {
        var live = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
        var history = live.handle(.start(acknowledge: false, at: 1)).journaled
        history += live.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(["x": "hi"], Receipt()), jitter: 0, at: 2)).journaled
        var resumed = ExecutionMachine(id: Fixtures.id, plan: Self.plan)
        resumed.fold(history)
        #expect(resumed.vars["from"] == "hi")
        let out = resumed.handle(.recovered(at: 9))
        #expect(!out.journaled.contains { if case .stepSucceeded(1, _, _, _, _) = $0.event { true } else { false } })
    }

    @Test func aValueThatCannotBeRenderedFailsTheExecutionAtItsPlace() {
        let capsule = try! CapsuleParser.parse(["steps": [
            ["id": "a", "layer": "t", "op": "pure"],
            ["id": "calc", "set": ["x": "{{ steps.a.output.n + 1 }}"]],
        ]])
        var m = ExecutionMachine(id: Fixtures.id, plan: try! Plan(capsule: capsule, catalog: Fixtures.catalog))
        _ = m.handle(.start(acknowledge: false, at: 1))
        _ = m.handle(.stepReturned(step: 0, attempt: 1, outcome: .ok(["n": "five"], Receipt()), jitter: 0, at: 2))
        guard case .finished(.failed, let e?) = m.state.phase else { Issue.record("\(m.state.phase)"); return }
        #expect(e.pointer == "/steps/1/set/x", "\(e)")
    }
}

/// A dry run is journaled with the submission and reaches every call, after a restart too.
@Suite struct DryRunMachineTests {
    @Test func theFlagIsJournaledAndCarriedByEveryCall() throws {
        let plan = Fixtures.plan([("w", "write")])
        var live = ExecutionMachine(id: Fixtures.id, plan: plan, dryRun: true)
        let history = live.handle(.start(acknowledge: false, at: 1)).journaled
        #expect(history.first?.event == .submitted(startsNow: true, dryRun: true))
        let record = history[0].record(plan: plan)
        #expect(record.payload == ["d": true])
        #expect(try JournalEntry(record: record, plan: plan).event == .submitted(startsNow: true, dryRun: true))
        var resumed = ExecutionMachine(id: Fixtures.id, plan: plan)  // as recovery makes it: no flag given
        resumed.fold(history)
        #expect(resumed.state.dryRun)
        #expect(resumed.call(0, attempt: 2).dryRun)
        #expect(ExecutionMachine(id: Fixtures.id, plan: plan).call(0, attempt: 1).dryRun == false)
    }
}
