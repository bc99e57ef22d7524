import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Logging
import Synchronization
import Testing

/// A clock that moves a millisecond each time it is read.
final class TestClock: Sendable {
    let value = Atomic<Int64>(1_000_000)
    func tick() -> Int64 { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// The runner with fake ports: it carries out what the machines say, and only that.
@Suite struct RunnerTests {
    struct World {
        let journal: FakeJournal
        let layers = FakeLayers()
        let timers = FakeTimers()
        let runner: Runner

        init(journal: FakeJournal = FakeJournal(), secrets: [String: String] = [:]) {
            self.journal = journal
            let clock = TestClock()
            runner = Runner(journal: journal, layers: layers, catalog: Fixtures.catalog,
                            secrets: FakeSecrets(values: secrets), timers: timers, logger: Logger(label: "test"),
                            now: { clock.tick() }, random: { 0.5 })
        }

        func started() async -> World {
            await runner.recover()
            return self
        }
    }

    static func capsule(_ steps: [JSONValue], secrets: [String] = []) -> [UInt8] {
        JSONWriter.bytes(["intent": "t", "secrets": .array(secrets.map { .string($0) }), "steps": .array(steps)])
    }

    static let twoReads = capsule([
        ["id": "a", "layer": "t", "op": "read", "input": ["x": 1]],
        ["id": "b", "layer": "t", "op": "pure", "input": ["prev": "{{ steps.a.output.n }}"]],
    ])

    @Test func aSubmissionRunsItsStepsInOrderAndEndsInTheJournal() async throws {
        let w = await World().started()
        let s = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        #expect(!s.replayed)
        #expect(w.layers.calls.map(\.op) == ["read"])
        w.layers.reply(0, .ok(["n": 7]))
        #expect(w.layers.calls.count == 2)
        #expect(w.layers.calls[1].input == ["prev": 7], "the template read the first output")
        #expect(w.layers.calls[1].traceID == s.id)
        w.layers.reply(1, .ok(["done": true]))
        let view = try #require(await w.runner.waitForEnd(id: s.id, timeout: .seconds(5))).json
        #expect(view["state"] == "completed")
        #expect(view["outputs"]?["b"] == ["done": true])
        #expect(view["steps"]?[0]?["runs"]?[0]?["pid"] == 9)
        #expect(w.journal.kinds(s.id) == ["submitted", "step.ok", "step.ok", "finished"])
        #expect(w.runner.runningCount == 0)
        #expect(try w.runner.view(id: s.id).json == view, "the journal's fold shows what memory showed")
    }

    @Test func anAcknowledgedSubmissionReturnsOnlyOnceItIsOnDisk() async throws {
        let journal = FakeJournal()
        journal.state.withLock { $0.hold = true }
        let w = await World(journal: journal).started()
        let returned = Atomic<Bool>(false)
        let task = Task {
            let s = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
            returned.store(true, ordering: .relaxed)
            return s
        }
        try await Task.sleep(for: .milliseconds(100))
        let early = returned.load(ordering: .relaxed)
        #expect(!early)
        #expect(w.layers.calls.count == 1, "a read goes out without waiting for the disk")
        journal.release()
        _ = try await task.value
        let late = returned.load(ordering: .relaxed)
        #expect(late)
    }

    @Test func theSameKeyAnswersTheSameExecutionAndAnotherCapsuleIsAConflict() async throws {
        let w = await World().started()
        let first = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: "k1", acknowledge: true)
        let again = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: "k1", acknowledge: true)
        #expect(again.id == first.id && again.replayed)
        let other = Self.capsule([["id": "z", "layer": "t", "op": "pure"]])
        await #expect(throws: RunnerError.self) {
            try await w.runner.submit(body: other, contentType: nil, idempotencyKey: "k1", acknowledge: true)
        }
        w.layers.reply(0, .ok(["n": 1]))
        w.layers.reply(1, .ok([:]))
        _ = await w.runner.waitForEnd(id: first.id, timeout: .seconds(5))
        // Ended and gone from memory: the journal answers for the key now.
        let later = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: "k1", acknowledge: false)
        #expect(later.id == first.id && later.replayed)
        #expect(w.layers.calls.count == 2, "no step ran again")
    }

    @Test func concurrentSubmissionsWithOneKeyMakeOneExecution() async throws {
        let w = await World().started()
        w.layers.autoReply.withLock { $0 = { _ in LayerReply(.ok(["n": 1])) } }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: "same",
                                              acknowledge: true).id
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(w.journal.state.withLock { $0.rows.count } == 1)
    }

    @Test(arguments: ["", String(repeating: "k", count: 256), "has space", "tab\there", "é"])
    func aMalformedKeyIsRefused(key: String) async throws {
        let w = await World().started()
        let error = await #expect(throws: RunnerError.self) {
            try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: key, acknowledge: true)
        }
        #expect(error?.code == .invalidInput)
    }

    @Test func aRetryWaitsOnItsTimerAndTheFlagOfTheLayerDecides() async throws {
        let w = await World().started()
        let s = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        w.layers.reply(0, .failed(CallFailure(.layerUnavailable, "restarting")))
        #expect(w.timers.count == 1)
        #expect(w.layers.calls.count == 1)
        w.timers.fire()
        #expect(w.layers.calls.count == 2)
        // upstream_error is retryable by default, but this layer says it is not: no third attempt.
        w.layers.reply(1, .failed(CallFailure(.upstreamError, "400", retryable: false)))
        let view = try #require(await w.runner.waitForEnd(id: s.id, timeout: .seconds(5))).json
        #expect(view["state"] == "failed")
        #expect(view["error"]?["retryable"] == false)
        #expect(view["steps"]?[0]?["runs"]?[0]?["error"]?["retryable"] == true)
        #expect(view["steps"]?[0]?["attempts"] == 2)
    }

    @Test func aCancelReachesTheCallInFlightAndEndsTheExecution() async throws {
        let w = await World().started()
        let s = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        async let cancelled = w.runner.cancel(id: s.id)
        try await Task.sleep(for: .milliseconds(50))
        #expect(w.layers.wasCancelled(0))
        w.layers.reply(0, .failed(CallFailure(.cancelled, "stopped")))
        let view = try await cancelled.json
        #expect(view["state"] == "cancelled")
        await #expect(throws: RunnerError.self) { try await w.runner.cancel(id: s.id) }
    }

    @Test func secretsReachTheCallButComeBackMasked() async throws {
        let w = await World(secrets: ["token": "s3cr3t-value"]).started()
        let body = Self.capsule([["id": "a", "layer": "t", "op": "read", "input": ["auth": "Bearer {{ secrets.token }}"]]],
                                secrets: ["token"])
        let s = try await w.runner.submit(body: body, contentType: nil, idempotencyKey: nil, acknowledge: true)
        #expect(w.layers.calls[0].input == ["auth": "Bearer s3cr3t-value"])
        w.layers.reply(0, .ok(["echo": "Bearer s3cr3t-value"]))
        let view = try #require(await w.runner.waitForEnd(id: s.id, timeout: .seconds(5))).json
        #expect(view["outputs"]?["a"]?["echo"] == "Bearer ***")
        let journaled = w.journal.state.withLock { "\($0.rows[s.id]!.execution.events)" }
        #expect(!journaled.contains("s3cr3t-value"))
    }

    @Test func aWriteInFlightWhenTheRunnerDiedIsUnknownAfterRecovery() async throws {
        let w = await World().started()
        let body = Self.capsule([["id": "w", "layer": "t", "op": "write", "input": ["x": 1]]])
        let s = try await w.runner.submit(body: body, contentType: nil, idempotencyKey: nil, acknowledge: true)
        #expect(w.layers.calls.count == 1, "the write went out after its dispatch was on disk")
        // kill -9: the runner and its layers are gone; a new one opens the same journal.
        let next = await World(journal: w.journal.reopened()).started()
        let view = try #require(await next.runner.waitForEnd(id: s.id, timeout: .seconds(5))).json
        #expect(view["state"] == "failed")
        #expect(view["error"]?["code"] == "unknown")
        #expect(next.layers.calls.isEmpty, "a write that may have happened is not run again")
    }

    @Test func aReadInFlightWhenTheRunnerDiedRunsAgain() async throws {
        let w = await World().started()
        let s = try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        w.layers.reply(0, .ok(["n": 1]))
        let next = await World(journal: w.journal.reopened()).started()
        #expect(next.layers.calls.map(\.op) == ["pure"], "the first step ended ok and is not run again")
        next.layers.reply(0, .ok([:]))
        let view = try #require(await next.runner.waitForEnd(id: s.id, timeout: .seconds(5))).json
        #expect(view["state"] == "completed")
    }

    @Test func aJournalThatRefusesAWriteGivesTheExecutionUp() async throws {
        let w = await World().started()
        w.journal.state.withLock { $0.failNext = RunnerError(.internal, "disk full") }
        let error = await #expect(throws: RunnerError.self) {
            try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        }
        #expect(error?.message == "disk full")
        #expect(w.runner.runningCount == 0)
    }

    @Test func submissionsAfterADrainAreRefused() async throws {
        let w = await World().started()
        await w.runner.drain()
        let error = await #expect(throws: RunnerError.self) {
            try await w.runner.submit(body: Self.twoReads, contentType: nil, idempotencyKey: nil, acknowledge: true)
        }
        #expect(error?.code == .layerUnavailable)
    }
}
