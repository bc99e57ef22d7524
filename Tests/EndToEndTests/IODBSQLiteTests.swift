import Foundation
import JALMWire
import Testing

/// io-db on SQLite through the real daemon and its confined plugin: the `main` database without any
/// settings, plus a read-only view of the same file declared in the settings.
@Suite(.serialized) struct IODBSQLiteTests {
    let daemon: Daemon

    init() throws {
        daemon = try Daemon(config: #"layers: {"io-db": {"databases": {"ro": {"file": "main.sqlite", "read_only": true}}}}"#)
    }

    @Test func typesRoundTrip() throws {
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB, n TEXT, ok BOOLEAN, at TEXT, doc JSON)"])
        let insert = try IODBStep.run(daemon, "exec", [
            "sql": "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "params": [.int(Int64.max), -1.25e-7, "héllo \u{1F600}", ["$blob": "AAEC/w=="], .null, true, "2025-01-02T03:04:05Z", ["k": [1, "x"]]],
        ])
        #expect(insert.output?["rows_affected"] == 1, "\(insert)")
        let q = try IODBStep.run(daemon, "query", ["sql": "SELECT * FROM t"])
        let row = try #require(q.rows.first, "\(q)")
        #expect(row["i"] == .int(Int64.max))
        #expect(row["f"]?.doubleValue == -1.25e-7)
        #expect(row["s"] == "héllo \u{1F600}")
        #expect(row["b"] == ["$blob": "AAEC/w=="])
        #expect(row["n"] == .null)
        #expect(row["ok"] == true)
        #expect(row["at"] == "2025-01-02T03:04:05Z")
        #expect(row["doc"] == ["k": [1, "x"]])
    }

    @Test func injectionAttemptsStayData() throws {
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE students (name TEXT)"])
        let evil = "Robert'); DROP TABLE students;-- :name ?"
        let w = try IODBStep.run(daemon, "exec", ["sql": "INSERT INTO students VALUES (:name)", "params": ["name": .string(evil)]])
        #expect(w.code == nil, "\(w)")
        let q = try IODBStep.run(daemon, "query", ["sql": "SELECT name FROM students WHERE name = ?", "params": [.string(evil)]])
        #expect(q.rows == [["name": .string(evil)]], "\(q)")
        // A second statement smuggled into sql is refused, not run.
        let smuggled = try IODBStep.run(daemon, "exec", ["sql": "INSERT INTO students VALUES ('x'); DROP TABLE students"])
        #expect(smuggled.code == "invalid_input", "\(smuggled)")
        let still = try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM students"])
        #expect(still.rows == [["n": 1]], "\(still)")
    }

    @Test func aLongQueryStopsAtItsTimeoutAndTheConnectionStaysUsable() throws {
        let pid = try daemon.layerPID("io-db")
        let endless = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c"
        let slow = try IODBStep.run(daemon, "query", ["sql": .string(endless)], timeout: "300ms")
        #expect(slow.code == "timeout", "\(slow)")
        #expect(slow.seconds < 3, "the statement ran \(slow.seconds) s past a 300 ms timeout")
        let next = try IODBStep.run(daemon, "query", ["sql": "SELECT 1 AS one"])
        #expect(next.rows == [["one": 1]], "\(next)")
        // The same process: the statement was interrupted, not the plugin killed.
        #expect(try daemon.layerPID("io-db") == pid)
        // A write interrupted the same way leaves nothing behind.
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE w (i INTEGER)"])
        let slowWrite = try IODBStep.run(daemon, "exec", ["sql": .string("INSERT INTO w " + endless.replacingOccurrences(of: "count(*)", with: "i"))], timeout: "300ms")
        #expect(slowWrite.code == "timeout", "\(slowWrite)")
        let count = try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM w"])
        #expect(count.rows == [["n": 0]], "\(count)")
    }

    @Test func aBatchFailingInItsThirdStatementLeavesNothing() throws {
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE b (v TEXT NOT NULL)"])
        let batch = try IODBStep.run(daemon, "batch", ["statements": [
            ["sql": "INSERT INTO b VALUES ('one')"],
            ["sql": "INSERT INTO b VALUES (?)", "params": ["two"]],
            ["sql": "INSERT INTO b VALUES (NULL)"],
        ]])
        #expect(batch.code == "conflict", "\(batch)")
        #expect(batch.error?["details"]?["statement"] == 2, "\(batch)")
        let count = try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM b"])
        #expect(count.rows == [["n": 0]], "\(count)")
    }

    @Test func aReadOnlyDatabaseRefusesWrites() throws {
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE r (v TEXT)"])
        _ = try IODBStep.run(daemon, "exec", ["sql": "INSERT INTO r VALUES ('kept')"])
        let read = try IODBStep.run(daemon, "query", ["database": "ro", "sql": "SELECT v FROM r"])
        #expect(read.rows == [["v": "kept"]], "\(read)")
        for (op, input) in [("exec", ["database": "ro", "sql": "DELETE FROM r"] as JSONValue),
                            ("batch", ["database": "ro", "statements": [["sql": "DELETE FROM r"]]])] {
            let w = try IODBStep.run(daemon, op, input)
            #expect(w.code == "invalid_input" && w.error?["details"]?["reason"] == "read_only_database", "\(op): \(w)")
        }
        let still = try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM r"])
        #expect(still.rows == [["n": 1]], "\(still)")
    }

    @Test func limitsAtTheirEdges() throws {
        let three = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3) SELECT i FROM c"
        #expect(try IODBStep.run(daemon, "query", ["sql": .string(three), "max_rows": 3]).rows.count == 3)
        let over = try IODBStep.run(daemon, "query", ["sql": .string(three), "max_rows": 2])
        #expect(over.code == "resource_exhausted" && over.error?["details"]?["limit"] == "max_rows", "\(over)")
        // [{"v":"aaaa"}] is 14 bytes of JSON.
        let one = "SELECT 'aaaa' AS v"
        #expect(try IODBStep.run(daemon, "query", ["sql": .string(one), "max_bytes": 14]).rows == [["v": "aaaa"]])
        let big = try IODBStep.run(daemon, "query", ["sql": .string(one), "max_bytes": 13])
        #expect(big.code == "resource_exhausted" && big.error?["details"]?["limit"] == "max_bytes", "\(big)")
        let mismatch = try IODBStep.run(daemon, "query", ["sql": "SELECT :a, :b", "params": ["a": 1]])
        #expect(mismatch.code == "invalid_input" && mismatch.error?["details"]?["reason"] == "parameter_mismatch", "\(mismatch)")
        // A batch's RETURNING rows count against one max_rows together; over it, nothing is applied.
        _ = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE rl (v TEXT)"])
        let two: JSONValue = [["sql": "INSERT INTO rl VALUES ('a') RETURNING v"], ["sql": "INSERT INTO rl VALUES ('b') RETURNING v"]]
        let batchOver = try IODBStep.run(daemon, "batch", ["statements": two, "max_rows": 1])
        #expect(batchOver.code == "resource_exhausted" && batchOver.error?["details"]?["limit"] == "max_rows", "\(batchOver)")
        #expect(try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM rl"]).rows == [["n": 0]])
        let batchOK = try IODBStep.run(daemon, "batch", ["statements": two, "max_rows": 2])
        #expect(batchOK.output?["results"]?[1]?["rows"] == [["v": "b"]], "\(batchOK)")
    }
}
