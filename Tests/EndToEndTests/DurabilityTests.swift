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

    /// Submits `steps` (the first one the slow fixture write) to a daemon with the echo fixture as
    /// io-http, kills jalmd -9 once the write is dispatched, restarts it, and returns the execution's view
    /// once it has failed.
    static func killWhileTheWriteIsInFlight(_ steps: [JSONValue]) throws -> JSONValue {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], extraCards: ["io-http.test.slow_write": Self.slowWriteCard])
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": .array(steps)])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        return try daemon.request("GET", "/exec/\(id)").1
    }

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
        let finishedBefore = Set(try JournalFile(daemon.dataDir).okSteps(id))
        #expect(finishedBefore.count >= 1)
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        // The view is ahead of the file by up to one commit: wait for the end to be on disk.
        #expect(try daemon.waitUntil(5) { try JournalFile(daemon.dataDir).runs(id).filter { $0.state == "ok" }.count >= 5 })
        let rows = try JournalFile(daemon.dataDir).runs(id)
        for step in finishedBefore {
            #expect(rows.filter { $0.step == step }.count == 1, "step \(step) finished before the kill and ran again")
        }
        #expect(Set(rows.filter { $0.state == "ok" }.map(\.step)) == Set((0..<5).map { "s\($0)" }))
    }

    @Test func aWriteStepInFlightAtKill9IsMarkedUnknownAndNotRepeated() throws {
        let view = try Self.killWhileTheWriteIsInFlight([
            ["id": "w", "layer": "io-http", "op": "test.slow_write", "input": ["ms": 5000]],
        ])
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
        // The fixture echoes the idempotency key each call carried: the re-run had the same one.
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["outputs"]?["w"]?["idempotency_key"] == .string("\(id)/w/1"), "\(view)")
        _ = daemon.terminate()
        let runs = try JournalFile(daemon.dataDir).runs(id)
        #expect(runs.map(\.attempt) == [1, 2], "\(runs)")
        #expect(runs.map(\.state) == ["interrupted", "ok"], "\(runs)")
    }

    /// on_error: continue across kill -9: the step that failed and was let go is not run again, the step
    /// in flight at the kill runs again (it has no side effect), and the conditions after it still read
    /// the failure from the journal.
    @Test func onErrorContinueResumesPastTheFailedStepAfterKill9() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "settings", "layer": "io-file", "op": "read", "input": ["path": "missing.json"], "on_error": "continue"],
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 3000]],
            ["id": "defaults", "layer": "compute-script", "op": "sys.echo", "input": ["theme": "light"],
             "when": "$.steps.settings.state == 'error' and $.steps.settings.error.code == 'not_found'"],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "error" })
        usleep(300_000)
        daemon.kill9()
        #expect(try JournalFile(daemon.dataDir).state(id) == "running")
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["steps"]?.arrayValue?.map { $0["state"] ?? nil } == ["error", "ok", "ok"], "\(view)")
        #expect(view["steps"]?[0]?["error"]?["code"] == "not_found", "\(view)")
        #expect(view["outputs"]?["defaults"] == ["theme": "light"], "\(view)")
        #expect(view["error"] == .null, "\(view)")
        _ = daemon.terminate()
        let runs = try JournalFile(daemon.dataDir).runs(id)
        #expect(runs.filter { $0.step == "settings" }.count == 1, "the failed step ran again: \(runs)")
    }

    /// on_error: continue does not cover a write found in flight after a crash: its effect may or may
    /// not have happened, so the execution fails with `unknown` and the write is not sent again.
    @Test func onErrorContinueDoesNotPassAnUnknownWriteAfterKill9() throws {
        let view = try Self.killWhileTheWriteIsInFlight([
            ["id": "w", "layer": "io-http", "op": "test.slow_write", "input": ["ms": 5000], "on_error": "continue"],
            ["id": "after", "layer": "compute-script", "op": "sys.echo", "input": ["x": 1]],
        ])
        #expect(view["error"]?["code"] == "unknown", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "unknown" && view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(view["outputs"]?["after"] == nil, "\(view)")
    }

    /// A step that names no op runs its layer's default op (io-http: request, an `external` op): killed
    /// mid-request, it is marked unknown after the restart and the request is not sent a second time.
    @Test func aDefaultOpRequestInFlightAtKill9IsUnknownAndNotSentAgain() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "post", "layer": "io-http", "input": ["method": "POST", "url": .string(server.httpURL + "/slow?ms=6000")]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { server.connections().count == 1 })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["steps"]?[0]?["op"] == "request", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "unknown" && view["error"]?["code"] == "unknown", "\(view)")
        usleep(500_000)
        #expect(server.connections().count == 1, "\(server.connections())")
    }

    /// meta.timeout through the real daemon: the step in flight is stopped when the deadline comes, and
    /// the execution fails with `timeout` pointing at /meta/timeout.
    @Test func metaTimeoutStopsTheStepInFlight() throws {
        let daemon = try Daemon()
        let started = Date()
        let view = try daemon.run(["meta": ["timeout": "1s"], "steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 20000]],
            ["id": "never", "layer": "compute-script", "op": "sys.echo", "input": ["x": 1]],
        ]])
        #expect(Date().timeIntervalSince(started) < 10, "the 20 s sleep was not stopped")
        #expect(view["state"] == "failed" && view["error"]?["code"] == "timeout", "\(view)")
        #expect(view["error"]?["pointer"] == "/meta/timeout", "\(view)")
        #expect(view["error"]?["message"] == "the execution ran past its meta.timeout of 1s during step nap", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "cancelled" && view["steps"]?[1]?["state"] == "pending", "\(view)")
    }

    /// The deadline counts from the execution's start, across a kill -9 of jalmd: after the restart the
    /// execution is stopped when the time left runs out, not a whole timeout later.
    @Test func metaTimeoutCountsAcrossKill9() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec", json: ["meta": ["timeout": "6s"], "steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 30000]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        let submitted = Date()
        usleep(500_000)
        daemon.kill9()
        try daemon.start()
        let restarted = Date()
        #expect(try daemon.waitUntil(20) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let sinceSubmit = Date().timeIntervalSince(submitted)
        let sinceRestart = Date().timeIntervalSince(restarted)
        #expect(sinceSubmit > 5.5, "stopped \(sinceSubmit) s after the submission, before its 6 s")
        #expect(sinceRestart < 5.7, "stopped \(sinceRestart) s after the restart: the deadline started over")
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["error"]?["code"] == "timeout", "\(view)")
        _ = daemon.terminate()
        #expect(try JournalFile(daemon.dataDir).eventKinds(id).filter { $0 == "deadline.passed" }.count == 1)
    }

    /// meta.max_steps: a budget on step runs, retries included; the run past it is refused with its place.
    @Test func metaMaxStepsStopsTheRunPastTheBudget() throws {
        let daemon = try Daemon()
        let echo: (String) -> JSONValue = { ["id": .string($0), "layer": "compute-script", "op": "sys.echo", "input": ["x": 1]] }
        let view = try daemon.run(["meta": ["max_steps": 2], "steps": [echo("a"), echo("b"), echo("c")]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "resource_exhausted", "\(view)")
        #expect(view["error"]?["pointer"] == "/meta/max_steps", "\(view)")
        #expect(view["steps"]?.arrayValue?.map { $0["state"] ?? nil } == ["ok", "ok", "error"], "\(view)")
        let (status, problem) = try daemon.request("POST", "/exec", json: ["meta": ["max_steps": 0], "steps": [echo("a")]])
        #expect(status == 422 && problem["pointer"] == "/meta/max_steps", "\(problem)")
    }

    /// set and abort across kill -9: the values a set step assigned are read back from the journal (the
    /// set runs once), and an abort after the restart still ends the execution with its own error.
    @Test func setAndAbortResumeAfterKill9() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec", json: ["vars": ["n": 21], "steps": [
            ["id": "calc", "set": ["double": "{{ vars.n * 2 }}"]],
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 3000]],
            ["id": "show", "layer": "compute-script", "op": "sys.echo", "input": ["v": "{{ vars.double }}"]],
            ["id": "stop", "when": "$.vars.double == 42", "abort": ["message": "the answer was reached", "code": "conflict"]],
            ["id": "never", "layer": "compute-script", "op": "sys.echo", "input": ["x": 1]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "ok" })
        usleep(500_000)
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["outputs"]?["show"] == ["v": 42], "\(view)")
        #expect(view["error"]?["code"] == "conflict" && view["error"]?["pointer"] == "/steps/3/abort", "\(view)")
        #expect(view["steps"]?.arrayValue?.map { $0["state"] ?? nil } == ["ok", "ok", "ok", "error", "pending"], "\(view)")
        _ = daemon.terminate()
        #expect(try JournalFile(daemon.dataDir).runs(id).filter { $0.step == "calc" }.count == 1)
    }

    /// expected_outputs and meta.max_steps across kill -9: the step in flight runs again and its output is
    /// checked once it arrives; the attempt lost in the crash left no trace, so the budget counts the rerun
    /// once and the fourth step is still the one refused.
    @Test func expectedOutputsAndMaxStepsResumeAfterKill9() throws {
        let daemon = try Daemon()
        let echo: (String) -> JSONValue = { ["id": .string($0), "layer": "compute-script", "op": "sys.echo", "input": ["x": 1]] }
        let (s, r) = try daemon.request("POST", "/exec", json: ["meta": ["max_steps": 3], "steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 2000],
             "expected_outputs": [["path": "/slept_ms", "type": "integer", "expr": "$.value == 2000"]]],
            echo("a"), echo("b"), echo("over"),
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(500_000)
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["steps"]?.arrayValue?.map { $0["state"] ?? nil } == ["ok", "ok", "ok", "error"], "\(view)")
        #expect(view["error"]?["code"] == "resource_exhausted" && view["error"]?["pointer"] == "/meta/max_steps", "\(view)")
        #expect(view["outputs"]?["nap"] == ["slept_ms": 2000], "\(view)")
    }

    @Test func sigtermDrainsRunningExecutionsAndExitsZero() throws {
        let daemon = try Daemon()
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 500]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(100_000)
        #expect(daemon.terminate() == 0)
        #expect(try JournalFile(daemon.dataDir).state(id) == "completed")
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

/// Recovery decides from the journal alone: these tests write the journal a crash would leave, then start jalmd.
@Suite(.serialized) struct RecoveryRuleTests {
    /// A journal of schema 1 (issues 2–8) as a crash would leave it: jalmd upgrades it to events at start,
    /// and recovery decides from what the rows said.
    private func crashedJournal(step: JSONValue, attempt: Int, state: String, error: JSONValue?,
                                sideEffect: String) throws -> (dataDir: String, id: String) {
        let dataDir = Daemon.makeTempDir() + "/data"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: dataDir + "/journal.sqlite")
        defer { db.close() }
        try db.exec(Migrations.v1 + "PRAGMA user_version = 1;")
        let id = "ex_0000000000010000000001"
        let capsule = JSONWriter.string(["intent": "crashed", "steps": [step]])
        try db.run("INSERT INTO executions VALUES (?1, 'crashed', 'running', ?2, 1000, 1000, NULL, NULL, 0)",
                   [.text(id), .text(capsule)])
        try db.run("""
            INSERT INTO step_runs VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, ?8, 1000, 1000, 1000, NULL, NULL, NULL)
            """, [.text(id), .text(step["id"]?.stringValue ?? ""), .integer(Int64(attempt)),
                  .text(step["layer"]?.stringValue ?? ""), .text(step["op"]?.stringValue ?? ""), .text(sideEffect),
                  .text(state), error.map { .text(JSONWriter.string($0)) } ?? .null])
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
        #expect(view["error"]?["message"] == "step w (io-file.write) failed: disk said no", "\(view)")
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
        #expect(try JournalFile(daemon.dataDir).state(id) == "running")
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
