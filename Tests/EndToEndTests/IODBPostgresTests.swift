import Foundation
import JALMWire
import PostgresTestServer
import Testing

/// io-db on a real PostgreSQL (started once for the suite on a free loopback port) through the real
/// daemon and its confined plugin (network: outbound). The databases are `pg` (a pool of 2) and `pg_ro`
/// (`read_only: true`), both by a DSN held in the secret store.
@Suite(.serialized) struct IODBPostgresTests {
    @Test func everyGuaranteeHoldsOnPostgreSQL() throws {
        if let reason = PostgresTestServer.unavailableReason {
            MissingTool.report("PostgreSQL (\(reason))", installedBy: "scripts/deps.d/io-db.apt")
            return
        }
        let service = try PostgresService()
        defer { service.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([service]), secrets: service.secrets)
        try typesRoundTrip(daemon)
        try injectionAttemptsStayData(daemon)
        try aLongQueryIsCancelledAndThePoolStillWorks(daemon, service.server)
        try aBatchFailingInItsThirdStatementLeavesNothing(daemon)
        try aReadOnlyDatabaseRefusesWrites(daemon)
        try limitsAtTheirEdges(daemon)
        try aHugeResultStopsAtItsLimitWithoutFillingMemory(daemon)
        try batchLimitsBoundAllStatementsTogether(daemon)
        try onlyDataChangesCountAsRowsAffected(daemon)
    }

    func typesRoundTrip(_ daemon: Daemon) throws {
        let create = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": """
            CREATE TABLE types (i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision, num numeric, t text,
              b bytea, n int, ok boolean, ts timestamptz, d date, j json, jb jsonb)
            """])
        #expect(create.code == nil, "\(create)")
        let insert = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": """
            INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """, "params": [-32768, 2147483647, .int(Int64.min), 1.5, -1.25e-7, "12345678901234567890.5", "héllo \u{1F600}",
                            ["$blob": "AAEC/w=="], .null, true, "2025-01-02T03:04:05+02:00", "2024-02-29",
                            ["a": [1, 2]], ["k": ["x": true]]]])
        #expect(insert.output?["rows_affected"] == 1, "\(insert)")
        let q = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT * FROM types"])
        let row = try #require(q.rows.first, "\(q)")
        #expect(row["i2"] == -32768)
        #expect(row["i4"] == 2147483647)
        #expect(row["i8"] == .int(Int64.min))
        #expect(row["f4"]?.doubleValue == 1.5)
        #expect(row["f8"]?.doubleValue == -1.25e-7)
        #expect(row["num"] == "12345678901234567890.5")
        #expect(row["t"] == "héllo \u{1F600}")
        #expect(row["b"] == ["$blob": "AAEC/w=="])
        #expect(row["n"] == .null)
        #expect(row["ok"] == true)
        #expect(row["ts"] == "2025-01-02 01:04:05+00")
        #expect(row["d"] == "2024-02-29")
        #expect(row["j"] == ["a": [1, 2]])
        #expect(row["jb"] == ["k": ["x": true]])
    }

    func injectionAttemptsStayData(_ daemon: Daemon) throws {
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "CREATE TABLE students (name text)"])
        let evil = "Robert'); DROP TABLE students;-- :name $1 $$"
        let w = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "INSERT INTO students VALUES (:name)", "params": ["name": .string(evil)]])
        #expect(w.code == nil, "\(w)")
        let q = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT name FROM students WHERE name = $1", "params": [.string(evil)]])
        #expect(q.rows == [["name": .string(evil)]], "\(q)")
        let smuggled = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "INSERT INTO students VALUES ('x'); DROP TABLE students"])
        #expect(smuggled.code == "invalid_input", "\(smuggled)")
        let still = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT count(*)::int AS n FROM students"])
        #expect(still.rows == [["n": 1]], "\(still)")
    }

    func aLongQueryIsCancelledAndThePoolStillWorks(_ daemon: Daemon, _ server: PostgresTestServer) throws {
        let pid = try daemon.layerPID("io-db")
        let slow = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT pg_sleep(30)"], timeout: "400ms")
        #expect(slow.code == "timeout", "\(slow)")
        #expect(slow.seconds < 5, "pg_sleep(30) ran \(slow.seconds) s past a 400 ms timeout")
        // The server really stopped it: no backend is still sleeping.
        let sleeping = try server.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'")
        #expect(sleeping.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // Every connection of the pool (2) answers afterwards, in the same plugin process.
        for _ in 0..<4 {
            let next = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT 1 AS one"])
            #expect(next.rows == [["one": 1]], "\(next)")
        }
        #expect(try daemon.layerPID("io-db") == pid)
        // A write stopped mid-way is rolled back.
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "CREATE TABLE w (i int)"])
        let slowWrite = try IODBStep.run(daemon, "batch", ["database": "pg", "statements": [
            ["sql": "INSERT INTO w VALUES (1)"], ["sql": "SELECT pg_sleep(30)"]]], timeout: "400ms")
        #expect(slowWrite.code == "timeout", "\(slowWrite)")
        let count = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT count(*)::int AS n FROM w"])
        #expect(count.rows == [["n": 0]], "\(count)")
    }

    func aBatchFailingInItsThirdStatementLeavesNothing(_ daemon: Daemon) throws {
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "CREATE TABLE b (v text NOT NULL)"])
        let batch = try IODBStep.run(daemon, "batch", ["database": "pg", "statements": [
            ["sql": "INSERT INTO b VALUES ('one')"],
            ["sql": "INSERT INTO b VALUES ($1)", "params": ["two"]],
            ["sql": "INSERT INTO b VALUES (NULL)"],
        ]])
        #expect(batch.code == "conflict", "\(batch)")
        #expect(batch.error?["details"]?["statement"] == 2, "\(batch)")
        let count = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT count(*)::int AS n FROM b"])
        #expect(count.rows == [["n": 0]], "\(count)")
    }

    func aReadOnlyDatabaseRefusesWrites(_ daemon: Daemon) throws {
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "CREATE TABLE r (v text)"])
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "INSERT INTO r VALUES ('kept')"])
        let read = try IODBStep.run(daemon, "query", ["database": "pg_ro", "sql": "SELECT v FROM r"])
        #expect(read.rows == [["v": "kept"]], "\(read)")
        let w = try IODBStep.run(daemon, "exec", ["database": "pg_ro", "sql": "DELETE FROM r"])
        #expect(w.code == "invalid_input" && w.error?["details"]?["reason"] == "read_only_database", "\(w)")
        // query runs in a read-only transaction, even on a writable database: a write through it fails.
        let sneaky = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "DELETE FROM r RETURNING v"])
        #expect(sneaky.code == "invalid_input", "\(sneaky)")
        let still = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT count(*)::int AS n FROM r"])
        #expect(still.rows == [["n": 1]], "\(still)")
    }

    func limitsAtTheirEdges(_ daemon: Daemon) throws {
        let three = "SELECT i FROM generate_series(1, 3) AS i"
        #expect(try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(three), "max_rows": 3]).rows.count == 3)
        let over = try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(three), "max_rows": 2])
        #expect(over.code == "resource_exhausted" && over.error?["details"]?["limit"] == "max_rows", "\(over)")
        let one = "SELECT 'aaaa' AS v"
        #expect(try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(one), "max_bytes": 14]).rows == [["v": "aaaa"]])
        let big = try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(one), "max_bytes": 13])
        #expect(big.code == "resource_exhausted" && big.error?["details"]?["limit"] == "max_bytes", "\(big)")
        let mismatch = try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT $1::int + $2::int", "params": [1]])
        #expect(mismatch.code == "invalid_input", "\(mismatch)")
    }

    /// About 1 GB of rows against a layer whose cgroup allows 256 MiB: rows arrive one at a time, so the
    /// limit ends the statement (cancelled on the server) long before memory fills, and the plugin lives.
    func aHugeResultStopsAtItsLimitWithoutFillingMemory(_ daemon: Daemon) throws {
        let before = try ioDBRestarts(daemon)
        let huge = "SELECT repeat('x', 1000) AS v FROM generate_series(1, 1000000)"
        let r = try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(huge), "max_rows": 10])
        #expect(r.code == "resource_exhausted" && r.error?["details"]?["limit"] == "max_rows", "\(r)")
        #expect(r.seconds < 10, "\(r.seconds) s")
        let bytes = try IODBStep.run(daemon, "query", ["database": "pg", "sql": .string(huge), "max_bytes": 100_000])
        #expect(bytes.code == "resource_exhausted" && bytes.error?["details"]?["limit"] == "max_bytes", "\(bytes)")
        #expect(try ioDBRestarts(daemon) == before, "the io-db plugin was restarted")
        #expect(try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT 1 AS one"]).rows == [["one": 1]])
    }

    /// A batch's RETURNING rows count against one `max_rows`/`max_bytes`, so its reply stays bounded;
    /// going over rolls the whole batch back.
    func batchLimitsBoundAllStatementsTogether(_ daemon: Daemon) throws {
        _ = try IODBStep.run(daemon, "exec", ["database": "pg", "sql": "CREATE TABLE rl (v text)"])
        let two: JSONValue = [["sql": "INSERT INTO rl VALUES ('a') RETURNING v"], ["sql": "INSERT INTO rl VALUES ('b') RETURNING v"]]
        let over = try IODBStep.run(daemon, "batch", ["database": "pg", "statements": two, "max_rows": 1])
        #expect(over.code == "resource_exhausted" && over.error?["details"]?["limit"] == "max_rows", "\(over)")
        #expect(try IODBStep.run(daemon, "query", ["database": "pg", "sql": "SELECT count(*)::int AS n FROM rl"]).rows == [["n": 0]])
        let ok = try IODBStep.run(daemon, "batch", ["database": "pg", "statements": two, "max_rows": 2])
        #expect(ok.output?["results"]?[0]?["rows"] == [["v": "a"]] && ok.output?["results"]?[1]?["rows"] == [["v": "b"]], "\(ok)")
    }

    /// libpq counts the rows of a SELECT as "tuples"; io-db reports only rows changed, as with SQLite.
    func onlyDataChangesCountAsRowsAffected(_ daemon: Daemon) throws {
        let r = try IODBStep.run(daemon, "batch", ["database": "pg", "statements": [
            ["sql": "CREATE TABLE ra (i int)"], ["sql": "INSERT INTO ra VALUES (1), (2)"], ["sql": "SELECT 42 AS x"],
        ]])
        #expect(r.output?["results"]?[1]?["rows_affected"] == 2, "\(r)")
        #expect(r.output?["results"]?[2]?["rows_affected"] == 0 && r.output?["results"]?[2]?["last_insert_id"] == .null, "\(r)")
        #expect(r.output?["results"]?[2]?["rows"] == [["x": 42]], "\(r)")
        #expect(r.output?["rows_affected"] == 2, "\(r)")
    }

    private func ioDBRestarts(_ daemon: Daemon) throws -> Int64? {
        let (_, view) = try daemon.request("GET", "/layers")
        return view["layers"]?.arrayValue?.first { $0["name"] == "io-db" }?["restarts"]?.intValue
    }
}
