import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// A crash at every point of recorded runs: the journal's prefix, folded and recovered, ends the execution
/// as the uninterrupted run did — except that a `write`/`external` call that may have happened is reported
/// `unknown` — and no call that must not repeat is ever made twice, and no step that ended ok runs again.
@Suite struct CrashPointTests {
    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var simulator: Simulator
        var testDescription: String { name }
    }

    static let gone = StepOutcome.failed(RunnerError(.layerUnavailable, "gone"), Receipt(pid: 2, version: "t"))
    static let refusedByUpstream = StepOutcome.failed(RunnerError(.upstreamError, "400", retryable: false), Receipt())

    static let scenarios: [Scenario] = [
        Scenario(name: "three repeatable steps", simulator: Simulator(
            plan: Fixtures.plan([("a", "pure"), ("b", "read"), ("c", "pure")]))),
        Scenario(name: "a read that fails twice, then works", simulator: Simulator(
            plan: Fixtures.plan([("a", "read"), ("b", "pure")]), script: ["a": [gone, gone, .ok(["n": 3], Receipt())]])),
        Scenario(name: "write, idempotent write, external", simulator: Simulator(
            plan: Fixtures.plan([("w", "write"), ("i", "idem"), ("x", "external")]))),
        Scenario(name: "an idempotent write retried", simulator: Simulator(
            plan: Fixtures.plan([("i", "idem"), ("r", "read")]), script: ["i": [gone, .ok([:], Receipt())]])),
        Scenario(name: "a write that fails for good", simulator: Simulator(
            plan: Fixtures.plan([("r", "read"), ("w", "write"), ("never", "pure")]), script: ["w": [refusedByUpstream]])),
        Scenario(name: "a write that fails for good under on_error: continue", simulator: Simulator(
            plan: Fixtures.plan([("w", "write"), ("after", "pure")], extra: ["w": ["on_error": "continue"]]),
            script: ["w": [refusedByUpstream]])),
        Scenario(name: "an output polled with retry_on: [assertion_failed] until it meets its expectation",
                 simulator: Simulator(
            plan: Fixtures.plan([("poll", "read"), ("after", "pure")], extra: ["poll": [
                "expected_outputs": [["path": "/ready", "type": "boolean", "expr": "$.value"]],
                "retry": ["max": 3, "base": "10ms", "retry_on": ["assertion_failed"]],
            ]]),
            script: ["poll": [.ok(["ready": false], Receipt()), .ok(["ready": true], Receipt())]])),
        Scenario(name: "a write whose output breaks its expectation", simulator: Simulator(
            plan: Fixtures.plan([("w", "write"), ("never", "pure")], extra: ["w": [
                "expected_outputs": [["path": "/id", "type": "string"]],
            ]]),
            script: ["w": [.ok(["id": 7], Receipt())]])),
        Scenario(name: "a meta.timeout that does not pass, its timer armed again after each restart",
                 simulator: Simulator(plan: Fixtures.plan([("a", "pure"), ("b", "external"), ("c", "read")],
                                                          meta: ["timeout": "10s"]))),
        Scenario(name: "meta.max_steps spent by retries", simulator: Simulator(
            plan: Fixtures.plan([("a", "read"), ("b", "pure")], meta: ["max_steps": 3]),
            script: ["a": [gone, gone, .ok(["n": 3], Receipt())]])),
        Scenario(name: "a set step between two writes", simulator: Simulator(
            plan: Fixtures.plan([("w", "write"), ("calc", "pure"), ("x", "external")], extra: [
                "calc": ["set": ["n": "{{ len(steps.w.output) + 1 }}"]],
                "x": ["input": ["v": "{{ vars.n }}"]],
            ]))),
        Scenario(name: "a skipped step", simulator: Simulator(
            plan: Fixtures.plan([("a", "pure"), ("b", "write"), ("c", "read")],
                                extra: ["b": ["when": "$.steps.a.output.from == 'nobody'"]]))),
        Scenario(name: "a read that keeps failing", simulator: Simulator(
            plan: Fixtures.plan([("a", "read")]), script: ["a": [gone]])),
        Scenario(name: "a switch whose case writes", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "a", "op": "read"],
                ["id": "route", "switch": [["when": "$.steps.a.output.from == 'a'", "steps": [["id": "w", "op": "write"],
                                                                                          ["id": "x", "op": "external"]]],
                                           ["default": [["id": "never", "op": "write"]]]]],
                ["id": "after", "op": "idem", "input": ["v": "{{ steps.route.output }}"]],
            ]))),
        Scenario(name: "a foreach of writes, two at a time", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "each", "foreach": [1, 2, 3], "concurrency": 2, "steps": [
                    ["id": "w", "op": "write", "input": ["n": "{{ item }}"]], ["id": "r", "op": "read"]]],
                ["id": "after", "op": "external"],
            ]))),
        Scenario(name: "a foreach whose second iteration fails, fail_fast", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "each", "foreach": [1, 2, 3], "concurrency": 2, "steps": [["id": "w", "op": "idem"]]],
            ]), script: ["each[1].w": [refusedByUpstream]])),
        Scenario(name: "a parallel of a write and an external call, then a set", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "both", "parallel": ["a": [["id": "w", "op": "write"]], "b": [["id": "x", "op": "external"],
                                                                                    ["id": "r", "op": "read"]]]],
                ["id": "total", "set": ["n": "{{ steps.both.output }}"]],
                ["id": "last", "op": "write", "input": ["n": "{{ vars.n }}"]],
            ]))),
        Scenario(name: "a write that fails for good, its fallback writes", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "w", "op": "write", "on_error": ["steps": [["id": "fw", "op": "write"], ["id": "fx", "op": "external"]]]],
                ["id": "after", "op": "write", "input": ["v": "{{ steps.w.output }}"]],
            ]), script: ["w": [refusedByUpstream]])),
        Scenario(name: "a saga: reserve, charge twice in a foreach, ship fails; compensations write", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "reserve", "op": "write", "compensate": ["op": "write", "input": ["r": "{{ steps.reserve.output }}"]]],
                ["id": "each", "foreach": [1, 2], "steps": [
                    ["id": "charge", "op": "external", "compensate": ["op": "idem", "input": ["n": "{{ item }}"]]]]],
                ["id": "ship", "op": "write"],
            ]), script: ["ship": [refusedByUpstream]])),
        Scenario(name: "an abort after a compensated write, its compensation failing once", simulator: Simulator(
            plan: Fixtures.plan(steps: [
                ["id": "w", "op": "write", "compensate": ["op": "external", "retry": ["max": 2, "base": "10ms"]]],
                ["id": "stop", "abort": ["message": "no"]],
            ]), script: ["w:compensate": [gone, .ok([:], Receipt())]])),
        Scenario(name: "a paged foreach of writes, two pages at a time", simulator: Simulator(
            plan: PagedForeachTests.plan(concurrency: 2, extra: [["id": "after", "op": "external"]]),
            script: ["src": [PagedForeachTests.rows(1...2)], "each[1].each:page": [PagedForeachTests.rows(3...4)],
                     "each[2].each:page": [PagedForeachTests.rows(5...6)], "each[3].each:page": [PagedForeachTests.empty]])),
        Scenario(name: "a cancel during the second step", simulator: Simulator(
            plan: Fixtures.plan([("a", "pure"), ("b", "external"), ("c", "pure")]), injections: [1006: .cancel(at: 0)])),
    ]

    @Test(arguments: scenarios)
    func aCrashAfterAnyCommandEndsAsTheUninterruptedRunDid(_ scenario: Scenario) throws {
        let sim = scenario.simulator
        let baseline = sim.run()
        let expected = try #require(baseline.finished, "the uninterrupted run must end")
        #expect(baseline.acknowledged)
        for point in 1...baseline.commandCount {
            let t = sim.run(crashAfter: [point])
            guard let crash = t.crashes.first else { continue }  // the run ended before this point
            guard let ended = t.finished else {
                Issue.record("crash after command \(point): the execution never ended")
                continue
            }
            var atCrash = ExecutionMachine(id: Fixtures.id, plan: sim.plan)
            atCrash.fold(Array(t.journal.prefix(crash.journal)))
            func inDoubt(compensation: Bool) -> Bool {
                atCrash.state.inFlight.contains { i in
                    guard (sim.plan.steps[i.node].undoes != nil) == compensation else { return false }
                    if case .running = atCrash.state[i].status { return !sim.plan.steps[i.node].safeToRepeat }
                    return false
                }
            }
            if inDoubt(compensation: true) {
                // A compensation that may have run is not run again: the execution ends as it was to, and
                // says what may not have been undone.
                #expect(ended.0 == expected.0, "crash after command \(point)")
                #expect(ended.1?.code == expected.1?.code, "crash after command \(point)")
                #expect(ended.1?.details?["compensations_failed"] != nil, "crash after command \(point): \(String(describing: ended.1))")
            } else if inDoubt(compensation: false) {
                #expect(ended.1?.code == .unknown, "crash after command \(point): \(ended)")
                #expect(ended.0 == (atCrash.state.cancelRequested ? .cancelled : .failed))
            } else {
                #expect(ended.0 == expected.0, "crash after command \(point)")
                #expect(ended.1?.code == expected.1?.code, "crash after command \(point): \(String(describing: ended.1))")
                let same = t.machine?.outputs == baseline.machine?.outputs
                #expect(same, "crash after command \(point): other outputs")
            }
            expectNothingRanTwice(t, baseline: baseline, plan: sim.plan, atCrash: atCrash, point: point)
        }
    }

    @Test(arguments: scenarios.prefix(4))
    func twoCrashesInARowAreSurvivedToo(_ scenario: Scenario) throws {
        let sim = scenario.simulator
        let baseline = sim.run()
        for first in 1...baseline.commandCount {
            for second in (first + 1)...(first + 6) {
                let t = sim.run(crashAfter: [first, second])
                let ended = t.finished != nil
                #expect(ended, "crashes after commands \(first) and \(second): never ended")
                var atCrash = ExecutionMachine(id: Fixtures.id, plan: sim.plan)
                atCrash.fold(Array(t.journal.prefix(t.crashes.first?.journal ?? t.journal.count)))
                expectNothingRanTwice(t, baseline: baseline, plan: sim.plan, atCrash: atCrash, point: first)
            }
        }
    }

    /// No call that must not repeat was made more often than in the uninterrupted run, and a step the
    /// journal had as ok at the crash was not called after it.
    func expectNothingRanTwice(_ t: Simulator.Trace, baseline: Simulator.Trace, plan: Plan, atCrash: ExecutionMachine,
                               point: Int) {
        let refs = Set(t.calls.map(\.step) + baseline.calls.map(\.step))
        for i in refs {
            let step = plan.steps[i.node]
            let calls = t.calls.filter { $0.step == i }.count
            if !step.safeToRepeat {
                #expect(calls <= baseline.calls.filter { $0.step == i }.count,
                        "crash after command \(point): \(plan.address(of: i)) called \(calls) times")
            }
            if atCrash.state[i].status == .ok, let crash = t.crashes.first {
                #expect(!t.calls[crash.calls...].contains { $0.step == i },
                        "crash after command \(point): \(plan.address(of: i)) ended ok and ran again")
            }
        }
    }
}
