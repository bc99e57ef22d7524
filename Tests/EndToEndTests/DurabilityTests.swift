#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMStore
import Synchronization
import JALMWire
import Testing

/// Nothing accepted is lost: kill -9 of the kernel, SIGTERM drains, a write in flight is never repeated blindly.
@Suite(.serialized) struct DurabilityTests {
    static let slowWriteCard = """
        layer: io-http
        op: test.slow_write
        summary: A write that takes ms milliseconds (test fixture).
        side_effect: write
        io_type: test
        timeout: 60s
        input: {type: object, properties: {ms: {type: integer}}, additionalProperties: false}
        output: {type: object}
        examples:
          - name: writes
            input: {ms: 1}
            output: {wrote: true}
        """

    @Test func afterKill9TheKernelResumesFromTheFirstUnfinishedStepAndRunsNoFinishedStepTwice() throws {
        let daemon = try Daemon()
        let steps: [JSONValue] = (0..<5).map { i in
            ["id": .string("s\(i)"), "layer": "io-file", "op": "sys.sleep", "input": ["ms": 300]]
        }
        let (_, r) = try daemon.request("POST", "/exec", json: ["intent": "sleepy", "steps": .array(steps)])
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) {
            let view = try daemon.request("GET", "/exec/\(id)").1
            return view["steps"]?[1]?["state"] == "ok"
        })
        daemon.kill9()
        let finishedBefore = Set(try Journal(daemon.dataDir).okSteps(id))
        #expect(finishedBefore.count >= 1)
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let rows = try Journal(daemon.dataDir).runs(id)
        for step in finishedBefore {
            #expect(rows.filter { $0.step == step }.count == 1, "step \(step) finished before the kill and ran again")
        }
        #expect(Set(rows.filter { $0.state == "ok" }.map(\.step)) == Set(0..<5))
    }

    @Test func aWriteStepInFlightAtKill9IsMarkedUnknownAndNotRepeated() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], extraCards: ["io-http.test.slow_write": Self.slowWriteCard])
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "w", "layer": "io-http", "op": "test.slow_write", "input": ["ms": 5000]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["error"]?["code"] == "unknown", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "unknown")
        #expect(view["steps"]?[0]?["attempts"] == 1)
    }

    @Test func anIdempotentWriteInFlightAtKill9IsRunAgainWithTheSameKey() throws {
        let card = Self.slowWriteCard.replacingOccurrences(of: "side_effect: write", with: "side_effect: write\nidempotent: true")
        let daemon = try Daemon(fixtures: ["io-http": "echo"], extraCards: ["io-http.test.slow_write": card])
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "w", "layer": "io-http", "op": "test.slow_write", "input": ["ms": 1500]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        _ = daemon.terminate()
        let runs = try Journal(daemon.dataDir).store.stepRuns(executionID: id)
        #expect(runs.map(\.attempt) == [1, 2], "\(runs)")
        #expect(runs.last?.state == "ok", "\(runs)")
        #expect(Set(runs.map(\.idempotencyKey)) == ["\(id)/w/1"], "\(runs.map(\.idempotencyKey))")
    }

    @Test func sigtermDrainsRunningExecutionsAndExitsZero() throws {
        let daemon = try Daemon()
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 500]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(100_000)
        #expect(daemon.terminate() == 0)
        #expect(try Journal(daemon.dataDir).state(id) == "completed")
    }

    @Test func listeningBeyondLoopbackWithoutATokenIsRefusedWithAReason() throws {
        let dir = Daemon.makeTempDir()
        let log = dir + "/log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalmd", ["--data", dir, "--listen", "0.0.0.0:18999"], log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect((status >> 8) & 0xFF != 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("requires a bearer token"), "\(text)")
    }
}

/// Reads the journal file directly, through the store's own reader, after the daemon has stopped.
struct Journal {
    let store: Store
    init(_ dataDir: String) throws { store = try Store(path: dataDir + "/journal.sqlite") }

    struct Row { var step: Int; var attempt: Int; var state: String }

    func runs(_ id: String) throws -> [Row] {
        try store.stepRuns(executionID: id).map { Row(step: $0.stepIndex, attempt: $0.attempt, state: $0.state) }
    }

    func okSteps(_ id: String) throws -> [Int] { try runs(id).filter { $0.state == "ok" }.map(\.step) }

    func state(_ id: String) throws -> String? { try store.execution(id: id)?.state }
}

/// Recovery decides from the journal alone: these tests write the journal a crash would leave, then start jalmd.
@Suite(.serialized) struct RecoveryRuleTests {
    private func crashedJournal(step: JSONValue, attempt: Int, state: String, error: JSONValue?,
                                sideEffect: String) throws -> (dataDir: String, id: String) {
        let dataDir = Daemon.makeTempDir() + "/data"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let store = try Store(path: dataDir + "/journal.sqlite")
        let id = "ex_0000000000010000000001"
        let capsule = JSONWriter.string(["intent": "crashed", "steps": [step]])
        let now: Int64 = 1_000
        try awaitSync {
            try await store.commit([
                .insertExecution(ExecutionRecord(id: id, intent: "crashed", state: "running", capsule: capsule,
                                                 createdAt: now, startedAt: now)),
                .upsertStepRun(StepRunRecord(
                    executionID: id, stepIndex: 0, stepID: step["id"]?.stringValue ?? "", attempt: attempt,
                    layer: step["layer"]?.stringValue ?? "", op: step["op"]?.stringValue ?? "", sideEffect: sideEffect,
                    state: state, error: error, queuedAt: now, dispatchedAt: now, finishedAt: now)),
            ])
        }
        store.close()
        return (dataDir, id)
    }

    @Test func aStepThatFailedForGoodBeforeTheCrashIsNotRunAgain() throws {
        let (dataDir, id) = try crashedJournal(
            step: ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "x.txt", "content": "x"]],
            attempt: 1, state: "error", error: ["code": "internal", "message": "disk said no", "retryable": false],
            sideEffect: "write")
        let daemon = try Daemon(dataDir: dataDir)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(view["error"]?["message"] == "disk said no")
        #expect(!FileManager.default.fileExists(atPath: dataDir + "/files/x.txt"))
    }

    @Test func aRetryableFailureWithBudgetLeftIsRetriedAfterTheCrash() throws {
        let (dataDir, id) = try crashedJournal(
            step: ["id": "s", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 1]],
            attempt: 1, state: "error", error: ["code": "layer_unavailable", "message": "gone", "retryable": true],
            sideEffect: "none")
        let daemon = try Daemon(dataDir: dataDir)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let runs = try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.map { $0["attempt"]?.intValue ?? 0 } == [1, 2])
    }

    @Test func theRetryBudgetIsNotRenewedByARestart() throws {
        let (dataDir, id) = try crashedJournal(
            step: ["id": "s", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 1]],
            attempt: 3, state: "error", error: ["code": "layer_unavailable", "message": "gone", "retryable": true],
            sideEffect: "none")
        let daemon = try Daemon(dataDir: dataDir)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        #expect(try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["attempts"] == 1)
    }

    @Test func executionsStillRunningPastTheDrainTimeoutResumeAtTheNextStart() throws {
        let daemon = try Daemon(config: "drain_timeout: 200ms\nlayer_drain_timeout: 200ms")
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 1500]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(150_000)
        #expect(daemon.terminate(timeout: 10) == 0)
        #expect(try Journal(daemon.dataDir).state(id) == "running")
        try daemon.start()
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
    }
}

/// Runs an async closure to completion from synchronous test code.
func awaitSync(_ body: @escaping @Sendable () async throws -> Void) throws {
    let result = Mutex<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body(); result.withLock { $0 = .success(()) } } catch { result.withLock { $0 = .failure(error) } }
        done.signal()
    }
    done.wait()
    try result.withLock { $0 }!.get()
}
