import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// switch, foreach and parallel in the machine: what runs, in which order, what each block gives, how a
/// failure inside one ends it, and what the journal holds.
@Suite struct BlockTests {
    static let ok = Receipt(pid: 1, version: "t")
    static let gone = StepOutcome.failed(RunnerError(.upstreamError, "400", retryable: false), Receipt())

    func run(_ plan: Plan, script: [String: [StepOutcome]] = [:]) -> Simulator.Trace {
        Simulator(plan: plan, script: script).run()
    }


    @Test func aSwitchRunsTheFirstCaseThatHoldsAndGivesItsLastOutput() throws {
        func plan(_ total: Int) -> Plan {
            Fixtures.plan(steps: [
                ["id": "route", "switch": [
                    ["when": "$.vars.total > 1000", "steps": [["id": "big"]]],
                    ["when": "$.vars.total > 10", "steps": [["id": "mid", "input": ["t": "{{ vars.total }}"]],
                                                           ["id": "mid2"]]],
                    ["default": [["id": "small"]]],
                ]],
                ["id": "after", "input": ["r": "{{ steps.route.output }}"]],
            ], vars: ["total": .int(Int64(total))])
        }
        for (total, ran) in [(5000, ["big"]), (50, ["mid", "mid2"]), (1, ["small"])] {
            let p = plan(total)
            let t = run(p)
            #expect(t.finished?.0 == .completed)
            #expect(addresses(t, p) == ran + ["after"], "total \(total)")
            #expect(t.machine?.outputs["route"] == ["from": .string(ran.last!)])
            let view = ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
            let ids = view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(ids == ["route"] + ran + ["after"], "only the chosen case is listed")
        }
    }

    @Test func aSwitchWithNoCaseThatHoldsAndNoDefaultGivesNull() throws {
        let p = Fixtures.plan(steps: [
            ["id": "route", "switch": [["when": "$.vars.n > 1", "steps": [["id": "big"]]]]],
            ["id": "after"],
        ], vars: ["n": 0])
        let t = run(p)
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["after"])
        #expect(t.machine?.outputs["route"] == .null)
    }

    @Test func aForeachRunsItsBodyPerItemWithTheItemByNameAndCollectsTheLastOutputs() throws {
        let p = Fixtures.plan(steps: [
            ["id": "q", "op": "read"],
            ["id": "each", "foreach": "{{ vars.orders }}", "as": "order", "concurrency": 2, "steps": [
                ["id": "charge", "op": "idem", "input": ["id": "{{ order.id }}", "i": "{{ index }}"]],
                ["id": "note", "input": ["n": "{{ steps.charge.output.from }}", "sum": "{{ order.amount * 2 }}"]],
            ]],
        ], vars: ["orders": [["id": "a", "amount": 1], ["id": "b", "amount": 2], ["id": "c", "amount": 3]]])
        var machine = ExecutionMachine(id: Fixtures.id, plan: p)
        var commands = machine.handle(.start(acknowledge: false, at: 1))
        let q = try #require(commands.dispatches.first)
        commands = machine.handle(.stepReturned(step: q.step, attempt: 1, outcome: .ok([:], Self.ok), jitter: 0, at: 2))
        // Two iterations start at once (concurrency 2), each with its own item and key.
        let charges = commands.dispatches
        #expect(charges.map { p.address(of: $0.step) } == ["each[0].charge", "each[1].charge"])
        #expect(charges.map(\.locals) == [["order": ["id": "a", "amount": 1], "index": 0],
                                          ["order": ["id": "b", "amount": 2], "index": 1]])
        #expect(charges.map(\.idempotencyKey) == ["\(Fixtures.id)/each[0].charge/1", "\(Fixtures.id)/each[1].charge/1"])
        #expect(commands.journaled.contains { if case .blockStarted(_, nil, let items?) = $0.event { items.count == 3 } else { false } })

        let t = run(p)
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["q", "each[0].charge", "each[1].charge", "each[0].note", "each[1].note",
                                    "each[2].charge", "each[2].note"])
        #expect(t.machine?.outputs["each"] == [["from": "each[0].note"], ["from": "each[1].note"], ["from": "each[2].note"]])
        #expect(t.machine?.outputs["charge"] == nil, "a step inside a foreach is not seen from outside")
    }

    @Test func aForeachCollectsANamedStepAndAnEmptyListGivesAnEmptyList() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2], "collect": "first", "steps": [["id": "first"], ["id": "second"]]],
            ["id": "none", "foreach": [], "steps": [["id": "never"]]],
        ])
        let t = run(p)
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["each"] == [["from": "each[0].first"], ["from": "each[1].first"]])
        #expect(t.machine?.outputs["none"] == [])
    }

    @Test func aForeachOverSomethingThatIsNotAListFailsAtItsPointer() throws {
        let p = Fixtures.plan(steps: [["id": "each", "foreach": "{{ vars.n }}", "steps": [["id": "x"]]]], vars: ["n": 3])
        let t = run(p)
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.pointer == "/steps/0/foreach")
        #expect(t.finished?.1?.message.contains("foreach must give a list, got integer") == true)
    }

    @Test func aFailedIterationStopsTheOthersUnderFailFastAndNamesItsStep() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2, 3, 4], "concurrency": 2, "steps": [["id": "charge", "op": "external"]]],
            ["id": "never"],
        ])
        let t = run(p, script: ["each[0].charge": [Self.gone]])
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.message == "step each[0].charge (t.external) failed: 400", "\(String(describing: t.finished?.1))")
        #expect(t.finished?.1?.pointer == "/steps/0/steps/0")
        #expect(!addresses(t, p).contains("each[2].charge") && !addresses(t, p).contains("never"))
        let view = ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
        let states = view["steps"]?.arrayValue?.map { "\($0["id"]!.stringValue!)=\($0["state"]!.stringValue!)" }
        #expect(states == ["each=error", "each[0].charge=error", "each[1].charge=cancelled", "never=pending"], "\(states ?? [])")
    }

    @Test func withoutFailFastEveryIterationRunsAndTheForeachFailsAtTheEnd() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2, 3], "fail_fast": false, "steps": [["id": "charge", "op": "external"]]],
        ])
        let t = run(p, script: ["each[1].charge": [Self.gone]])
        #expect(addresses(t, p) == ["each[0].charge", "each[1].charge", "each[2].charge"])
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.message.contains("each[1].charge") == true)
    }

    @Test func aStepThatGoesOnAfterAFailureLeavesANullInTheList() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2], "steps": [["id": "charge", "op": "external", "on_error": "continue"]]],
            ["id": "after", "when": "$.steps.each.output[0] == null"],
        ])
        let t = run(p, script: ["each[0].charge": [Self.gone]])
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["each"] == [nil, ["from": "each[1].charge"]])
        #expect(addresses(t, p).last == "after")
    }

    @Test func aBlockWithOnErrorContinueCatchesAFailureInside() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1], "on_error": "continue", "steps": [["id": "charge", "op": "external"]]],
            ["id": "after", "when": "$.steps.each.state == 'error'"],
        ])
        let t = run(p, script: ["each[0].charge": [Self.gone]])
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p).last == "after")
    }

    @Test func parallelBranchesStartTogetherAndGiveAnObjectOfTheirOutputs() throws {
        let p = Fixtures.plan(steps: [
            ["id": "both", "parallel": ["mail": [["id": "m1", "op": "external"], ["id": "m2"]],
                                        "archive": [["id": "a1", "op": "write"]]]],
            ["id": "after", "input": ["x": "{{ steps.both.output.mail.from }}"]],
        ])
        var machine = ExecutionMachine(id: Fixtures.id, plan: p)
        var commands = machine.handle(.start(acknowledge: false, at: 1))
        // Both first steps are durable dispatches: they go out together once the journal has them.
        commands = machine.handle(.journaled(upTo: commands.journaled.last!.seq, at: 2))
        #expect(commands.dispatches.map { p.address(of: $0.step) } == ["a1", "m1"])
        let t = run(p)
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["both"] == ["mail": ["from": "m2"], "archive": ["from": "a1"]])
    }

    @Test func aFailedBranchCancelsTheOtherUnderFailFastOrWaitsForItWithout() throws {
        for failFast in [true, false] {
            let p = Fixtures.plan(steps: [
                ["id": "both", "fail_fast": .bool(failFast),
                 "parallel": ["a": [["id": "a1", "op": "read"]], "b": [["id": "b1", "op": "read"], ["id": "b2"]]]],
            ])
            let t = run(p, script: ["a1": [Self.gone]])
            #expect(t.finished?.0 == .failed)
            #expect(t.finished?.1?.message.contains("step a1") == true)
            #expect(addresses(t, p).contains("b2") == !failFast, "fail_fast \(failFast): \(addresses(t, p))")
        }
    }

    @Test func blocksNestAndAddressEachRunByItsIterations() throws {
        let p = Fixtures.plan(steps: [
            ["id": "rows", "foreach": [[1, 2], [3]], "as": "row", "steps": [
                ["id": "cells", "foreach": "{{ row }}", "as": "cell", "steps": [
                    ["id": "pick", "switch": [["when": "$.cell > 1", "steps": [["id": "w", "op": "write",
                                                                             "input": ["c": "{{ cell }}"]]]]]],
                ]],
            ]],
        ])
        let t = run(p)
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["rows[0].cells[1].w", "rows[1].cells[0].w"])
        #expect(p.ref("rows[1].cells[0].w") == StepRef(node: 3, path: [1, 0]))
        #expect(p.ref("rows[1].w") == nil && p.ref("cells[0].w") == nil && p.ref("rows[x].cells[0].w") == nil)
        // Every event reads back from its record.
        for entry in t.journal {
            #expect(try JournalEntry(record: entry.record(plan: p), plan: p) == entry)
        }
    }

    @Test func aCancelStopsEveryCallOutAndEndsWhenTheyAreBack() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2, 3], "concurrency": 3, "steps": [["id": "x", "op": "external"]]],
        ])
        var machine = ExecutionMachine(id: Fixtures.id, plan: p)
        let start = machine.handle(.start(acknowledge: false, at: 1))
        let out = machine.handle(.journaled(upTo: start.journaled.last!.seq, at: 2)).dispatches
        #expect(out.count == 3)
        let cancel = machine.handle(.cancel(at: 3))
        #expect(cancel.count { if case .cancelCall = $0 { true } else { false } } == 3)
        for (k, call) in out.enumerated() {
            _ = machine.handle(.stepReturned(step: call.step, attempt: 1,
                                             outcome: .failed(RunnerError(.cancelled, "cancelled"), Receipt()),
                                             jitter: 0, at: 4))
            #expect(machine.state.phase.isFinished == (k == 2), "it ends when the last call is back")
        }
        #expect(machine.state.phase.state == .cancelled)
    }

    @Test func metaMaxStepsCountsTheRunsInsideALoop() throws {
        let p = Fixtures.plan(steps: [["id": "each", "foreach": [1, 2, 3, 4, 5], "steps": [["id": "x"]]]],
                              meta: ["max_steps": 3])
        let t = run(p)
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.code == .resourceExhausted && t.finished?.1?.pointer == "/meta/max_steps")
        #expect(addresses(t, p) == ["each[0].x", "each[1].x", "each[2].x"])
    }

    @Test func anAbortInsideAParallelCancelsTheOtherBranchAndEndsWithItsCode() throws {
        let p = Fixtures.plan(steps: [
            ["id": "both", "parallel": ["a": [["id": "slow", "op": "read"]],
                                        "b": [["id": "stop", "abort": ["message": "no", "code": "not_found"]]]]],
        ])
        let t = run(p)
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.code == .notFound && t.finished?.1?.pointer == "/steps/0/parallel/b/0/abort")
        let view = ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
        #expect(view["steps"]?[1]?["state"] == "cancelled", "\(view)")
    }

    @Test func aSwitchCaseWhoseConditionCannotBeEvaluatedFailsAtItsPointer() throws {
        let p = Fixtures.plan(steps: [["id": "route", "switch": [["when": "$.vars.n > 'x' + 1", "steps": [["id": "a"]]]]]],
                              vars: ["n": 1])
        let t = run(p)
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.pointer == "/steps/0/switch/0/when", "\(String(describing: t.finished?.1))")
    }

    @Test func aCancelledExecutionWithAWriteInFlightAtACrashEndsWithUnknown() throws {
        let p = Fixtures.plan(steps: [["id": "w", "op": "write"], ["id": "after"]])
        var machine = ExecutionMachine(id: Fixtures.id, plan: p)
        var journal = machine.handle(.start(acknowledge: false, at: 1)).journaled
        _ = machine.handle(.journaled(upTo: journal.last!.seq, at: 2))
        journal += machine.handle(.cancel(at: 3)).journaled
        // kill -9 before the cancelled call came back.
        var after = ExecutionMachine(id: Fixtures.id, plan: p)
        after.fold(journal)
        _ = after.handle(.recovered(at: 4))
        #expect(after.state.phase.state == .cancelled)
        guard case .finished(_, let error?) = after.state.phase else {
            Issue.record("not finished")
            return
        }
        #expect(error.code == .unknown, "\(error)")
    }

    @Test func aBlockStillOpenWhenTheExecutionEndsEndsCancelled() throws {
        let p = Fixtures.plan(steps: [
            ["id": "both", "parallel": [
                "a": [["id": "each", "foreach": [1, 2, 3], "steps": [["id": "slow", "op": "read"]]]],
                "b": [["id": "other", "op": "read"]]]],
        ])
        var sim = Simulator(plan: p)
        sim.injections = [1002: .cancel(at: 0)]
        let t = sim.run()
        #expect(t.finished?.0 == .cancelled)
        let view = ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
        let states = Dictionary((view["steps"]?.arrayValue ?? []).map { ($0["id"]?.stringValue ?? "", $0["state"]) },
                                uniquingKeysWith: { a, _ in a })
        #expect(states["both"] == "cancelled" && states["each"] == "cancelled", "\(states)")
        #expect(!states.values.contains("dispatched"), "\(states)")
    }
}
