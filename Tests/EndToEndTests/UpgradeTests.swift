#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMStore
import JALMWire
import Testing

/// A journal of schema 1 (issues 2–8), written row by row as that kernel wrote it, opened by today's jalmd:
/// it is upgraded to events at start, and what was finished stays as it was while what was not resumes.
@Suite(.serialized) struct UpgradeTests {
    /// A schema-1 journal file being written as the old kernel would have left it.
    struct Version1Journal {
        let dataDir: String
        let db: SQLiteConnection
        /// An hour ago: times in the file are milliseconds since the epoch, as the old kernel wrote them.
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        private var serial: UInt64 = 0

        init() throws {
            dataDir = Daemon.makeTempDir() + "/data"
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            db = try SQLiteConnection(path: dataDir + "/journal.sqlite")
            try db.exec(Migrations.v1 + "PRAGMA user_version = 1;")
        }

        /// An id as the old kernel made them: `ex_` + 12 hex digits of the creation time + 10 random ones.
        mutating func id(createdAt: Int64) -> String {
            serial += 1
            func hex(_ v: UInt64, _ width: Int) -> String {
                let s = String(v, radix: 16)
                return String(repeating: "0", count: width - s.count) + s
            }
            return "ex_" + hex(UInt64(createdAt), 12) + hex(0xA0_0000_0000 + serial, 10)
        }

        /// One `executions` row; the capsule is stored as the JSON text that was submitted.
        mutating func execution(intent: String, state: String, steps: [JSONValue], createdAt: Int64,
                                startedAt: Int64?, finishedAt: Int64? = nil, error: JSONValue? = nil) throws -> String {
            let id = self.id(createdAt: createdAt)
            let capsule = JSONWriter.string(["intent": .string(intent), "steps": .array(steps)])
            try db.run("INSERT INTO executions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)", [
                .text(id), .text(intent), .text(state), .text(capsule), .integer(createdAt),
                startedAt.map { .integer($0) } ?? .null, finishedAt.map { .integer($0) } ?? .null,
                error.map { .text(JSONWriter.string($0)) } ?? .null,
            ])
            return id
        }

        /// One `step_runs` row: one attempt of one step, as the old engine upserted it (a repeatable step
        /// without an idempotency key, any other with `<execution>/<step>/1`).
        func run(_ id: String, index: Int, step: JSONValue, attempt: Int = 1, sideEffect: String, state: String,
                 output: JSONValue? = nil, error: JSONValue? = nil, queuedAt: Int64, dispatchedAt: Int64?,
                 finishedAt: Int64?) throws {
            let stepID = step["id"]?.stringValue ?? ""
            let repeatable = sideEffect == "none" || sideEffect == "read"
            try db.run("""
                INSERT INTO step_runs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                """, [
                .text(id), .integer(Int64(index)), .text(stepID), .integer(Int64(attempt)),
                .text(step["layer"]?.stringValue ?? ""), .text(step["op"]?.stringValue ?? ""), .text(sideEffect),
                .text(state), .text(JSONWriter.string(step["input"] ?? [:])),
                output.map { .text(JSONWriter.string($0)) } ?? .null, error.map { .text(JSONWriter.string($0)) } ?? .null,
                .integer(queuedAt), dispatchedAt.map { .integer($0) } ?? .null, finishedAt.map { .integer($0) } ?? .null,
                dispatchedAt == nil ? .null : .integer(4242), dispatchedAt == nil ? .null : .text("0.1.0"),
                repeatable ? .null : .text("\(id)/\(stepID)/1"),
            ])
        }
    }

    static func step(_ id: String, _ layer: String, _ op: String, _ input: JSONValue) -> JSONValue {
        ["id": .string(id), "layer": .string(layer), "op": .string(op), "input": input]
    }

    @Test func aVersion1JournalWithExecutionsInEveryStateIsUpgradedAndTheUnfinishedOnesResume() throws {
        var v1 = try Version1Journal()
        let t = v1.base
        typealias S = UpgradeTests

        // Completed: two steps ok, with their outputs.
        let doneSteps = [S.step("a", "io-file", "sys.echo", ["n": 1]), S.step("b", "io-file", "sys.echo", ["word": "two"])]
        let done = try v1.execution(intent: "finished well", state: "completed", steps: doneSteps, createdAt: t,
                                    startedAt: t + 1, finishedAt: t + 50)
        try v1.run(done, index: 0, step: doneSteps[0], sideEffect: "none", state: "ok", output: ["n": 1],
                   queuedAt: t + 2, dispatchedAt: t + 3, finishedAt: t + 10)
        try v1.run(done, index: 1, step: doneSteps[1], sideEffect: "none", state: "ok", output: ["word": "two"],
                   queuedAt: t + 11, dispatchedAt: t + 12, finishedAt: t + 40)

        // Failed: a write that failed for good.
        let failedSteps = [S.step("w", "io-file", "write", ["path": "x.txt", "content": "x"])]
        let stepError: JSONValue = ["code": "internal", "message": "disk said no", "retryable": false]
        let failedError: JSONValue = ["code": "internal", "message": "step w (io-file.write) failed: disk said no",
                                      "pointer": "/steps/0", "retryable": false]
        let failed = try v1.execution(intent: "failed for good", state: "failed", steps: failedSteps, createdAt: t + 100,
                                      startedAt: t + 101, finishedAt: t + 130, error: failedError)
        try v1.run(failed, index: 0, step: failedSteps[0], sideEffect: "write", state: "error", error: stepError,
                   queuedAt: t + 102, dispatchedAt: t + 103, finishedAt: t + 120)

        // Cancelled during its second step.
        let cancelledSteps = [S.step("a", "io-file", "sys.echo", ["x": 1]), S.step("b", "io-file", "sys.sleep", ["ms": 60000])]
        let cancelledError: JSONValue = ["code": "cancelled", "message": "cancelled during step b", "pointer": "/steps/1",
                                         "retryable": false]
        let cancelled = try v1.execution(intent: "cancelled midway", state: "cancelled", steps: cancelledSteps,
                                         createdAt: t + 200, startedAt: t + 201, finishedAt: t + 260, error: cancelledError)
        try v1.run(cancelled, index: 0, step: cancelledSteps[0], sideEffect: "none", state: "ok", output: ["x": 1],
                   queuedAt: t + 202, dispatchedAt: t + 203, finishedAt: t + 210)
        try v1.run(cancelled, index: 1, step: cancelledSteps[1], sideEffect: "none", state: "cancelled",
                   error: ["code": "cancelled", "message": "sleep cancelled", "retryable": false],
                   queuedAt: t + 211, dispatchedAt: t + 212, finishedAt: t + 255)

        // Pending: accepted, never started.
        let pendingSteps = [S.step("a", "io-file", "sys.echo", ["pending": true])]
        let pending = try v1.execution(intent: "never started", state: "pending", steps: pendingSteps, createdAt: t + 300,
                                       startedAt: nil)

        // Running: step a ok, step b (repeatable) in flight at the crash, step c (templated from a) not reached.
        let repeatSteps = [S.step("a", "io-file", "sys.echo", ["greeting": "hi"]),
                           S.step("b", "io-file", "sys.sleep", ["ms": 100]),
                           S.step("c", "io-file", "sys.echo", ["from_a": "{{ steps.a.output.greeting }}"])]
        let repeating = try v1.execution(intent: "repeatable in flight", state: "running", steps: repeatSteps,
                                         createdAt: t + 400, startedAt: t + 401)
        try v1.run(repeating, index: 0, step: repeatSteps[0], sideEffect: "none", state: "ok", output: ["greeting": "hi"],
                   queuedAt: t + 402, dispatchedAt: t + 403, finishedAt: t + 405)
        try v1.run(repeating, index: 1, step: repeatSteps[1], sideEffect: "none", state: "dispatched",
                   queuedAt: t + 406, dispatchedAt: t + 407, finishedAt: nil)

        // Running: a write (not idempotent) in flight at the crash.
        let writeSteps = [S.step("w", "io-http", "test.slow_write", ["ms": 10])]
        let writing = try v1.execution(intent: "write in flight", state: "running", steps: writeSteps, createdAt: t + 500,
                                       startedAt: t + 501)
        try v1.run(writing, index: 0, step: writeSteps[0], sideEffect: "write", state: "dispatched",
                   queuedAt: t + 502, dispatchedAt: t + 503, finishedAt: nil)

        // Running: a retryable failure with budget left (attempt 1 of the default 3).
        let retrySteps = [S.step("s", "io-file", "sys.sleep", ["ms": 1])]
        let retryError: JSONValue = ["code": "layer_unavailable", "message": "gone", "retryable": true]
        let retrying = try v1.execution(intent: "retry pending", state: "running", steps: retrySteps, createdAt: t + 600,
                                        startedAt: t + 601)
        try v1.run(retrying, index: 0, step: retrySteps[0], sideEffect: "none", state: "error", error: retryError,
                   queuedAt: t + 602, dispatchedAt: t + 603, finishedAt: t + 610)

        // A layer event of the old kernel.
        let restartDetail: JSONValue = ["reason": "exited with status 1", "delay_ms": 100]
        try v1.db.run("INSERT INTO layer_events (at, layer, event, detail) VALUES (?1, 'io-file', 'restart', ?2)",
                      [.integer(t - 10), .text(JSONWriter.string(restartDetail))])
        v1.db.close()

        let daemon = try Daemon(fixtures: ["io-http": "echo"], dataDir: v1.dataDir,
                                extraCards: ["io-http.test.slow_write": DurabilityTests.slowWriteCard])
        func view(_ id: String) throws -> JSONValue { try daemon.request("GET", "/exec/\(id)").1 }
        func ended(_ id: String) throws -> Bool {
            ["completed", "failed", "cancelled"].contains(try view(id)["state"]?.stringValue ?? "")
        }
        let all = [done, failed, cancelled, pending, repeating, writing, retrying]
        #expect(try daemon.waitUntil(20) { try all.allSatisfy(ended) }, "\((try? all.map(view)) ?? [])")

        // Every execution is listed, newest first, with its intent and times.
        let (listStatus, list) = try daemon.request("GET", "/exec?limit=50")
        #expect(listStatus == 200)
        let items = list["items"]?.arrayValue ?? []
        #expect(items.map { $0["id"]?.stringValue ?? "" } == all.reversed(), "\(list)")
        #expect(items.map { $0["intent"]?.stringValue ?? "" } == [
            "retry pending", "write in flight", "repeatable in flight", "never started", "cancelled midway",
            "failed for good", "finished well",
        ])
        #expect(items.map { $0["created_at"]?.intValue ?? 0 } == [600, 500, 400, 300, 200, 100, 0].map { t + $0 })

        // The finished ones keep their state, outputs, errors, attempts and times.
        let d = try view(done)
        #expect(d["state"] == "completed", "\(d)")
        #expect(d["outputs"] == ["a": ["n": 1], "b": ["word": "two"]], "\(d)")
        #expect(d["steps"]?.arrayValue?.map { $0["attempts"] } == [1, 1], "\(d)")
        #expect(d["steps"]?[0]?["runs"]?[0]?["pid"] == 4242, "\(d)")
        #expect(d["steps"]?[0]?["runs"]?[0]?["plugin_version"] == "0.1.0", "\(d)")
        #expect(d["started_at"]?.intValue == t + 1 && d["finished_at"]?.intValue == t + 50, "\(d)")
        #expect(d["error"] == .null)

        let f = try view(failed)
        #expect(f["state"] == "failed", "\(f)")
        #expect(f["error"] == failedError, "\(f)")
        #expect(f["steps"]?[0]?["state"] == "error" && f["steps"]?[0]?["attempts"] == 1, "\(f)")
        #expect(f["steps"]?[0]?["error"] == stepError, "\(f)")
        #expect(f["finished_at"]?.intValue == t + 130, "\(f)")
        #expect(!FileManager.default.fileExists(atPath: v1.dataDir + "/files/x.txt"), "the failed write ran again")

        let c = try view(cancelled)
        #expect(c["state"] == "cancelled", "\(c)")
        #expect(c["error"] == cancelledError, "\(c)")
        #expect(c["steps"]?.arrayValue?.map { $0["state"] } == ["ok", "cancelled"], "\(c)")
        #expect(c["outputs"] == ["a": ["x": 1]], "\(c)")

        // The pending one runs.
        let p = try view(pending)
        #expect(p["state"] == "completed", "\(p)")
        #expect(p["outputs"] == ["a": ["pending": true]], "\(p)")

        // The repeatable step in flight runs again as attempt 2; step a is not run again, and its output
        // (from the old row) feeds step c's template.
        let r = try view(repeating)
        #expect(r["state"] == "completed", "\(r)")
        #expect(r["steps"]?[0]?["attempts"] == 1 && r["steps"]?[0]?["runs"]?[0]?["pid"] == 4242, "\(r)")
        #expect(r["steps"]?[1]?["runs"]?.arrayValue?.map { $0["state"] } == ["interrupted", "ok"], "\(r)")
        #expect(r["outputs"]?["b"] == ["slept_ms": 100], "\(r)")
        #expect(r["outputs"]?["c"] == ["from_a": "hi"], "\(r)")

        // The write in flight may have happened: it is not repeated, and the execution fails as unknown.
        let w = try view(writing)
        #expect(w["state"] == "failed", "\(w)")
        #expect(w["error"]?["code"] == "unknown", "\(w)")
        #expect(w["steps"]?[0]?["state"] == "unknown" && w["steps"]?[0]?["attempts"] == 1, "\(w)")

        // The retryable failure is retried, with the attempt number going on from the old rows.
        let y = try view(retrying)
        #expect(y["state"] == "completed", "\(y)")
        #expect(y["steps"]?[0]?["runs"]?.arrayValue?.map { $0["attempt"] } == [1, 2], "\(y)")
        #expect(y["steps"]?[0]?["runs"]?.arrayValue?.map { $0["state"] } == ["error", "ok"], "\(y)")

        // The layer event of the old kernel is still there.
        let events = try daemon.layer("io-file")["events"]?.arrayValue ?? []
        let oldEvent: JSONValue = ["at": .int(t - 10), "event": "restart", "detail": restartDetail]
        #expect(events.contains(oldEvent), "\(events)")

        #expect(daemon.terminate() == 0)
        // The file is now of schema 2, and none of the old tables is left.
        let db = try SQLiteConnection(path: v1.dataDir + "/journal.sqlite", flags: [.readOnly, .noMutex])
        defer { db.close() }
        #expect(try Migrations.version(of: db) == 2)
        let names = try db.withStatement("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name") { s in
            var names: [String] = []
            while try s.step() { names.append(s.string(at: 0) ?? "") }
            return names
        }
        #expect(names == ["documents", "events", "executions", "layer_events", "meta", "step_runs"], "\(names)")
        let file = try JournalFile(v1.dataDir)
        for id in all { #expect(try file.eventKinds(id).first == "submitted", "\(id)") }
        #expect(try file.state(writing) == "failed" && file.state(pending) == "completed")
    }

    /// A schema-1 file that cannot be upgraded (a damaged row: an `error` column that is not JSON) stops
    /// jalmd at start with the reason, and is left at version 1 exactly as it was.
    @Test func aVersion1JournalThatCannotBeUpgradedIsLeftAtVersion1Untouched() throws {
        var v1 = try Version1Journal()
        let t = v1.base
        let steps = [Self.step("a", "io-file", "sys.echo", ["n": 1])]
        let ok = try v1.execution(intent: "fine", state: "completed", steps: steps, createdAt: t, startedAt: t + 1,
                                  finishedAt: t + 5)
        try v1.run(ok, index: 0, step: steps[0], sideEffect: "none", state: "ok", output: ["n": 1],
                   queuedAt: t + 2, dispatchedAt: t + 3, finishedAt: t + 4)
        let damaged = v1.id(createdAt: t + 10)
        try v1.db.run("""
            INSERT INTO executions VALUES (?1, 'damaged', 'failed', ?2, ?3, ?3, ?3, 'disk said no', 0)
            """, [.text(damaged), .text(JSONWriter.string(["steps": .array(steps)])), .integer(t + 10)])
        let before = try Self.rows(v1.db)
        v1.db.close()

        var thrown: (any Error)?
        do { _ = try Daemon(dataDir: v1.dataDir) } catch { thrown = error }
        let reason = "\(thrown.map { "\($0)" } ?? "jalmd started")"
        #expect(reason.contains("migration of") && reason.contains("from schema version 1 to 2 failed"), "\(reason)")

        let db = try SQLiteConnection(path: v1.dataDir + "/journal.sqlite", flags: [.readOnly, .noMutex])
        defer { db.close() }
        #expect(try Migrations.version(of: db) == 1)
        let names = try db.withStatement("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { s in
            var names: [String] = []
            while try s.step() { names.append(s.string(at: 0) ?? "") }
            return names
        }
        #expect(names == ["executions", "layer_events", "step_runs"], "\(names)")
        let ids = try db.withStatement("SELECT id FROM executions ORDER BY created_at") { s in
            var ids: [String] = []
            while try s.step() { ids.append(s.string(at: 0) ?? "") }
            return ids
        }
        #expect(ids == [ok, damaged])
        // Row for row: the rollback left every table as it was.
        #expect(try Self.rows(db) == before)
    }

    /// Every row of schema 1's tables, each as the text of its columns.
    static func rows(_ db: SQLiteConnection) throws -> [String] {
        var out: [String] = []
        for table in ["executions", "step_runs", "layer_events"] {
            let count = try db.withStatement("SELECT count(*) FROM pragma_table_info('\(table)')") { s in
                _ = try s.step()
                return Int(s.int64(at: 0))
            }
            try db.withStatement("SELECT * FROM \(table) ORDER BY rowid") { s in
                while try s.step() {
                    out.append(table + ": " + (0..<count).map { s.string(at: $0) ?? "NULL" }.joined(separator: "|"))
                }
            }
        }
        return out
    }
}
