import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `on_error: {steps: [...]}`: the fallback runs in place of a step or a block that failed for good, and
/// its result stands for theirs.
@Suite struct FallbackTests {
    static let rejected = StepOutcome.failed(RunnerError(.upstreamError, "400", retryable: false), Receipt())
    static let flaky = StepOutcome.failed(RunnerError(.layerUnavailable, "gone"), Receipt())

    func step(_ view: JSONValue, _ id: String) -> JSONValue? {
        view["steps"]?.arrayValue?.first { $0["id"]?.stringValue == id }
    }

    @Test func aFallbackRunsAfterTheRetriesAndItsLastOutputStandsForTheStep() throws {
        let p = Fixtures.plan(steps: [
            ["id": "fetch", "op": "read", "retry": ["max": 2, "base": "10ms"],
             "on_error": ["steps": [
                 ["id": "why", "when": "$.steps.fetch.state == 'error'", "input": ["e": "{{ vars.n }}"]],
                 ["id": "cached", "op": "read"]]]],
            ["id": "use", "input": ["v": "{{ steps.fetch.output.from }}"]],
        ], vars: ["n": 1])
        let t = Simulator(plan: p, script: ["fetch": [Self.flaky]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["fetch", "fetch", "fetch", "why", "cached", "use"])
        #expect(t.machine?.outputs["fetch"] == ["from": "cached"])
        let v = view(t)
        #expect(step(v, "fetch")?["state"] == "ok")
        #expect(step(v, "fetch")?["fallback"] == "ok")
        #expect(step(v, "fetch")?["runs"]?.arrayValue?.count == 3, "the failed attempts stay on record")
        #expect(v["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["fetch", "why", "cached", "use"])
        #expect(ExecutionView.bytes(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
                == Array(JSONWriter.string(v, sortedKeys: true).utf8))
    }

    @Test func aNonRetryableErrorGoesStraightToTheFallback() throws {
        let p = Fixtures.plan(steps: [
            ["id": "w", "op": "read", "retry": ["max": 5, "base": "10ms"], "on_error": ["steps": [["id": "fb"]]]],
        ])
        let t = Simulator(plan: p, script: ["w": [Self.rejected]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["w", "fb"])
    }

    @Test func aFallbackThatFailsFailsTheStepWithItsError() throws {
        let p = Fixtures.plan(steps: [
            ["id": "w", "op": "write", "on_error": ["steps": [["id": "fb", "op": "write"]]]],
            ["id": "never"],
        ])
        let t = Simulator(plan: p, script: ["w": [Self.rejected], "fb": [Self.rejected]]).run()
        #expect(t.finished?.0 == .failed)
        let error = try #require(t.finished?.1)
        #expect(error.message.hasPrefix("the on_error steps of w failed: step fb (t.write) failed: 400"), "\(error.message)")
        #expect(error.pointer == "/steps/0/on_error/steps/0")
        #expect(addresses(t, p) == ["w", "fb"])
        let v = view(t)
        #expect(step(v, "w")?["state"] == "error")
        #expect(step(v, "w")?["fallback"] == "failed")
    }

    @Test func aBlockThatFailsHandsOverToItsFallback() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": [1, 2, 3], "steps": [["id": "w", "op": "read"]],
             "on_error": ["steps": [["id": "alert", "input": ["n": "{{ vars.n }}"]]]]],
            ["id": "after", "input": ["v": "{{ steps.each.output }}"]],
        ], vars: ["n": 1])
        let t = Simulator(plan: p, script: ["each[1].w": [Self.rejected]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["each[0].w", "each[1].w", "alert", "after"])
        #expect(t.machine?.outputs["each"] == ["from": "alert"])
    }

    @Test func aFallbackInsideAForeachRunsInItsIteration() throws {
        let p = Fixtures.plan(steps: [
            ["id": "each", "foreach": ["a", "b"], "concurrency": 2, "steps": [
                ["id": "w", "op": "read", "on_error": ["steps": [["id": "fb", "input": ["i": "{{ item }}"]]]]],
                ["id": "next", "input": ["v": "{{ steps.w.output.from }}"]]]],
        ])
        let t = Simulator(plan: p, script: ["each[0].w": [Self.rejected]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(Set(addresses(t, p)) == ["each[0].w", "each[1].w", "each[0].fb", "each[0].next", "each[1].next"])
        #expect(t.machine?.outputs["each"] == [["from": "each[0].next"], ["from": "each[1].next"]])
        let fb = try #require(t.journal.first { if case .fallbackEnded = $0.event { true } else { false } })
        #expect(fb.record(plan: p).address == "each[0].w")
    }

    @Test func aStepInAFailFastParallelFallsBackWithoutFailingItsSiblings() throws {
        let p = Fixtures.plan(steps: [
            ["id": "both", "parallel": [
                "a": [["id": "x", "op": "read", "on_error": ["steps": [["id": "fb"]]]]],
                "b": [["id": "y", "op": "read"], ["id": "z"]]]],
        ])
        let t = Simulator(plan: p, script: ["x": [Self.rejected]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["both"] == ["a": ["from": "fb"], "b": ["from": "z"]])
    }

    @Test func aCancelDuringAFallbackEndsTheExecutionCancelled() throws {
        let p = Fixtures.plan(steps: [
            ["id": "w", "op": "read", "on_error": ["steps": [["id": "slow", "op": "external"], ["id": "never"]]]],
        ])
        var sim = Simulator(plan: p, script: ["w": [Self.rejected]])
        sim.injections = [1004: .cancel(at: 0)]
        let t = sim.run()
        #expect(t.finished?.0 == .cancelled)
        #expect(!addresses(t, p).contains("never"))
    }

    @Test func theJournalRecordsOfAFallbackReadBack() throws {
        let p = Fixtures.plan(steps: [["id": "w", "op": "read", "on_error": ["steps": [["id": "fb"]]]]])
        for entry in Simulator(plan: p, script: ["w": [Self.rejected]]).run().journal {
            #expect(try JournalEntry(record: entry.record(plan: p), plan: p) == entry)
        }
        let failed = Simulator(plan: p, script: ["w": [Self.rejected], "fb": [Self.rejected]]).run()
        for entry in failed.journal { #expect(try JournalEntry(record: entry.record(plan: p), plan: p) == entry) }
    }
}
