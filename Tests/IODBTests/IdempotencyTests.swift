#if canImport(Glibc)
import Glibc
#endif
@testable import jalm_layer_io_db
import JALMLayerKit
import JALMWire
import PostgresTestServer
import Testing

/// A retried write with the same idempotency key applies once: the kernel gives every attempt of a
/// `write` step the same key, and the handler records it in `_jalm_idempotency` inside the write's own
/// transaction. These call the real handler on a real SQLite file and a real PostgreSQL, twice with one
/// key, as the kernel does after an attempt whose answer was lost.
@Suite(.serialized) struct IdempotencyTests {
    func context(_ key: String?, dryRun: Bool = false) -> CallContext {
        CallContext(callID: 1, deadline: .now + .seconds(10), idempotencyKey: key, dryRun: dryRun)
    }

    func tempDir() -> String {
        var template = Array("/tmp/jalm-iodb-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        mkdir(dir + "/db", 0o755)
        return dir
    }

    func check(_ handler: IODBHandler, database: String) async throws {
        let db: JSONValue = .string(database)
        _ = try await handler.handle(op: "exec", input: ["database": db, "sql": "CREATE TABLE ledger (amount integer)"], context: context(nil))
        let insert: JSONValue = ["database": db, "sql": "INSERT INTO ledger VALUES (10)"]
        let first = try await handler.handle(op: "exec", input: insert, context: context("exec-1/pay/1"))
        #expect(first["replayed"] == false && first["rows_affected"] == 1, "\(first)")
        let retry = try await handler.handle(op: "exec", input: insert, context: context("exec-1/pay/1"))
        #expect(retry["replayed"] == true && retry["rows_affected"] == 1, "the retry returns the first result, marked: \(retry)")
        let batch: JSONValue = ["database": db, "statements": [["sql": "INSERT INTO ledger VALUES (1)"], ["sql": "INSERT INTO ledger VALUES (2)"]]]
        let b1 = try await handler.handle(op: "batch", input: batch, context: context("exec-1/more/1"))
        let b2 = try await handler.handle(op: "batch", input: batch, context: context("exec-1/more/1"))
        #expect(b1["replayed"] == false && b2["replayed"] == true && b2["rows_affected"] == 2, "\(b1) \(b2)")
        // Another key applies again; a dry run applies nothing and records nothing.
        _ = try await handler.handle(op: "exec", input: insert, context: context("exec-2/pay/1"))
        let dry = try await handler.handle(op: "exec", input: insert, context: context("exec-3/pay/1", dryRun: true))
        #expect(dry["dry_run"] == true && dry["rows_affected"] == 1, "\(dry)")
        let sum = try await handler.handle(op: "query", input: ["database": db, "sql": "SELECT count(*) AS n, sum(amount) AS total FROM ledger"], context: context(nil))
        #expect(sum["rows"]?[0]?["n"]?.intValue == 4 && sum["rows"]?[0]?["total"]?.intValue == 23, "applied once per key: \(sum)")
        // A failed attempt records nothing, so its retry applies.
        let failing: JSONValue = ["database": db, "statements": [["sql": "INSERT INTO ledger VALUES (100)"], ["sql": "INSERT INTO nowhere VALUES (1)"]]]
        await #expect(throws: CallFailure.self) { try await handler.handle(op: "batch", input: failing, context: context("exec-4/x/1")) }
        let keys = try await handler.handle(op: "query", input: ["database": db, "sql": "SELECT key FROM _jalm_idempotency ORDER BY key"], context: context(nil))
        #expect(keys["rows"] == [["key": "exec-1/more/1"], ["key": "exec-1/pay/1"], ["key": "exec-2/pay/1"]], "\(keys)")
    }

    @Test func sqliteAppliesARetriedWriteOnce() async throws {
        let dir = tempDir()
        let handler = try IODBHandler(config: [:], dataDir: dir)
        try await check(handler, database: "main")
    }

    @Test func postgresAppliesARetriedWriteOnce() async throws {
        if let reason = PostgresTestServer.unavailableReason {
            print("SKIP: postgresAppliesARetriedWriteOnce: \(reason)")
            return
        }
        let server = try PostgresTestServer()
        defer { server.stop() }
        let handler = try IODBHandler(config: ["databases": ["pg": ["engine": "postgres", "dsn": .string(server.dsn)]]], dataDir: tempDir())
        try await check(handler, database: "pg")
    }
}
