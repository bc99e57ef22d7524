import Foundation
import JALMWire
import Testing

/// io-db's writes are idempotent ops: the kernel re-runs one that was in flight when it died, with the
/// same key, and the key in `_jalm_idempotency` makes the write apply once.
@Suite(.serialized) struct IODBDurabilityTests {
    @Test func aWriteInFlightAtKill9AppliesOnceAfterTheRestart() throws {
        let daemon = try Daemon()
        let setup = try IODBStep.run(daemon, "exec", ["sql": "CREATE TABLE ledger (amount INTEGER)"])
        #expect(setup.code == nil, "\(setup)")
        // The second statement keeps the transaction open for a while (about a second or more of VM work).
        let busy = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8000000) SELECT count(*) FROM c"
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "pay", "layer": "io-db", "op": "batch", "input": ["statements": [
                ["sql": "INSERT INTO ledger VALUES (10)"], ["sql": .string(busy)]]]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        daemon.kill9()
        try daemon.start()
        let done = try daemon.waitUntil(60) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" }
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(done, "\(view)")
        print("io-db write after kill -9: output \(view["outputs"]?["pay"] ?? .null)")
        // The SELECT in the batch changed nothing, whatever the INSERT before it did.
        #expect(view["outputs"]?["pay"]?["results"]?[1]?["rows_affected"] == 0, "\(view)")
        let count = try IODBStep.run(daemon, "query", ["sql": "SELECT count(*) AS n FROM ledger"])
        #expect(count.rows == [["n": 1]], "applied once: \(count)")
        let keys = try IODBStep.run(daemon, "query", ["sql": "SELECT key FROM _jalm_idempotency WHERE key LIKE ?", "params": [.string(id + "/%")]])
        #expect(keys.rows == [["key": .string("\(id)/pay/1")]], "\(keys)")
    }
}
