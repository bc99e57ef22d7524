import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `compensate:`: what ended ok is undone, newest first, when the execution fails, aborts, is cancelled or
/// runs out of time; and only then.
@Suite struct CompensationTests {
    static let rejected = StepOutcome.failed(RunnerError(.upstreamError, "400", retryable: false), Receipt())
    static let flaky = StepOutcome.failed(RunnerError(.layerUnavailable, "gone"), Receipt())


    /// reserve → charge → ship, each undoable but ship.
    static func saga(meta: JSONValue? = nil) -> Plan {
        Fixtures.plan(steps: [
            ["id": "reserve", "op": "write", "compensate": ["op": "write", "input": ["release": "{{ steps.reserve.output.from }}"]]],
            ["id": "charge", "op": "external", "compensate": ["op": "idem", "input": ["refund": "{{ steps.charge.output.from }}"]]],
            ["id": "ship", "op": "write"],
        ], meta: meta)
    }

    @Test func aFailureUndoesWhatEndedOkNewestFirstAndEndsAsItWasTo() throws {
        let p = Self.saga()
        let t = Simulator(plan: p, script: ["ship": [Self.rejected]]).run()
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.code == .upstreamError)
        #expect(t.finished?.1?.message.hasPrefix("step ship (t.write) failed: 400") == true)
        #expect(addresses(t, p) == ["reserve", "charge", "ship", "charge:compensate", "reserve:compensate"])
        // Each compensation reads the output of the step it undoes, under a key of its own.
        let calls = Simulator(plan: p, script: ["ship": [Self.rejected]]).callsMade()
        #expect(calls.first { $0.0 == "charge:compensate" }?.1.outputs["charge"] == ["from": "charge"])
        #expect(calls.first { $0.0 == "reserve:compensate" }?.1.idempotencyKey == "\(Fixtures.id)/reserve:compensate/1")
        let v = view(t)
        let steps = v["steps"]?.arrayValue ?? []
        #expect(steps.compactMap { $0["id"]?.stringValue } == ["reserve", "charge", "ship", "charge:compensate", "reserve:compensate"])
        #expect(steps[3]["compensates"] == "charge")
        #expect(steps[3]["state"] == "ok")
        #expect(v["outputs"]?["charge:compensate"] == nil, "a compensation's output is not the capsule's")
        #expect(ExecutionView.bytes(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
                == Array(JSONWriter.string(v, sortedKeys: true).utf8))
        #expect(t.journal.contains { if case .compensating(.failed, let e?) = $0.event { e.code == .upstreamError } else { false } })
    }

    @Test func aCompletedExecutionCompensatesNothing() throws {
        let p = Self.saga()
        let t = Simulator(plan: p).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["reserve", "charge", "ship"])
        #expect(view(t)["steps"]?.arrayValue?.count == 3)
    }

    @Test func aStepThatFailedOrDidNotRunIsNotCompensated() throws {
        let p = Self.saga()
        let t = Simulator(plan: p, script: ["charge": [Self.rejected]]).run()
        #expect(t.finished?.0 == .failed)
        #expect(addresses(t, p) == ["reserve", "charge", "reserve:compensate"])
    }

    @Test func anAbortCompensatesToo() throws {
        let p = Fixtures.plan(steps: [
            ["id": "w", "op": "write", "compensate": ["op": "write"]],
            ["id": "stop", "abort": ["message": "out of stock", "code": "conflict"]],
        ])
        let t = Simulator(plan: p).run()
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.code == .conflict)
        #expect(addresses(t, p) == ["w", "w:compensate"])
    }

    @Test func aCancelStopsWhatRunsThenCompensatesAndEndsCancelled() throws {
        let p = Fixtures.plan(steps: [
            ["id": "a", "op": "read", "compensate": ["op": "write"]],
            ["id": "b", "op": "read"],
        ])
        var sim = Simulator(plan: p)
        // start 1001, a's reply 1002 (b goes out), the cancel comes with b's reply pending.
        sim.injections = [1002: .cancel(at: 0)]
        let t = sim.run()
        #expect(t.finished?.0 == .cancelled)
        #expect(addresses(t, p).last == "a:compensate")
    }

    @Test func aCancelWhileCompensatingChangesNothing() throws {
        let p = Fixtures.plan(steps: [
            ["id": "a", "op": "read", "compensate": ["op": "external"]],
            ["id": "b", "op": "read", "compensate": ["op": "external"]],
            ["id": "c", "op": "read"],
        ])
        var sim = Simulator(plan: p, script: ["c": [Self.rejected]])
        sim.injections = [1006: .cancel(at: 0), 1008: .cancel(at: 0)]
        let t = sim.run()
        #expect(t.finished?.0 == .failed)
        #expect(addresses(t, p) == ["a", "b", "c", "b:compensate", "a:compensate"])
        #expect(!t.journal.contains { $0.event == .cancelRequested })
    }

    @Test func aTimeoutStopsWhatRunsThenCompensates() throws {
        // The simulator's clock ticks once per input: 1,000 reads take longer than the 1 s deadline.
        let p = Fixtures.plan(steps: [
            ["id": "a", "op": "write", "compensate": ["op": "write"]],
            ["id": "slow", "foreach": .array((0..<1000).map { JSONValue.int(Int64($0)) }), "steps": [["id": "r", "op": "read"]]],
        ], meta: ["timeout": "1s"])
        let t = Simulator(plan: p).run()
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.code == .timeout)
        #expect(addresses(t, p).last == "a:compensate")
    }

    @Test func aCompensationIsRetriedOnItsRuleAndOneThatFailsIsNamedInTheError() throws {
        let p = Fixtures.plan(steps: [
            ["id": "a", "op": "write", "compensate": ["op": "external", "retry": ["max": 1, "base": "10ms"]]],
            ["id": "b", "op": "write", "compensate": ["op": "read", "retry": ["max": 2, "base": "10ms"]]],
            ["id": "c", "op": "write"],
        ])
        let t = Simulator(plan: p, script: ["c": [Self.rejected], "b:compensate": [Self.flaky, Self.flaky, .ok([:], Receipt())],
                                            "a:compensate": [Self.rejected]]).run()
        #expect(t.finished?.0 == .failed)
        #expect(addresses(t, p) == ["a", "b", "c", "b:compensate", "b:compensate", "b:compensate", "a:compensate"])
        let error = try #require(t.finished?.1)
        #expect(error.code == .upstreamError, "the execution's own error stays first")
        #expect(error.message.contains("its compensation a:compensate failed (400)"), "\(error.message)")
        #expect(error.details?["compensations_failed"] == ["a:compensate"])
    }

    @Test func eachIterationRegistersItsOwnCompensation() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": ["x", "y"], "steps": [
                ["id": "charge", "op": "write", "compensate": ["op": "write", "input": ["n": "{{ item }}"]]]]],
            ["id": "ship", "op": "write"],
        ])
        let calls = Simulator(plan: p, script: ["ship": [Self.rejected]]).callsMade()
        #expect(calls.map(\.0) == ["each[0].charge", "each[1].charge", "ship", "each[1].charge:compensate",
                                   "each[0].charge:compensate"])
        #expect(calls[3].1.locals["item"] == "y")
        #expect(calls[3].1.idempotencyKey == "\(Fixtures.id)/each[1].charge:compensate/1")
    }

    @Test func maxStepsDoesNotHoldBackACompensation() throws {
        let p = Fixtures.plan(steps: [
            ["id": "a", "op": "write", "compensate": ["op": "write"]],
            ["id": "b", "op": "read"],
        ], meta: ["max_steps": 1])
        let t = Simulator(plan: p).run()
        #expect(t.finished?.1?.code == .resourceExhausted)
        #expect(addresses(t, p) == ["a", "a:compensate"])
    }

    @Test func theJournalRecordsOfACompensationReadBack() throws {
        let p = Self.saga()
        let t = Simulator(plan: p, script: ["ship": [Self.rejected]]).run()
        for entry in t.journal { #expect(try JournalEntry(record: entry.record(plan: p), plan: p) == entry) }
        #expect(t.journal.map { $0.record(plan: p).kind }.contains("compensating"))
    }
}
