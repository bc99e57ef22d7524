import Foundation
import JALMDocument
import JALMWire
import Testing

/// The paged foreach on the real daemon and the real io-db: examples/paged-migration.yml moves a table
/// page by page, and again with kill -9 of jalmd in the middle of it — every row arrives once.
@Suite(.serialized) struct PagedForeachDaemonTests {
    static func migration(rows: Int) throws -> JSONValue {
        try RealisticExampleTests.example("paged-migration.yml", vars: ["rows": .int(Int64(rows))])
    }

    static func count(_ daemon: Daemon) throws -> Int64 {
        let v = try daemon.run(["steps": [["id": "q", "layer": "io-db", "op": "query",
                                           "input": ["sql": "SELECT count(*) AS n FROM orders_cents"]]]])
        return v["outputs"]?["q"]?["rows"]?[0]?["n"]?.intValue ?? -1
    }

    /// The rows the target table holds, read from the file while jalmd is down (sqlite3, as an operator would).
    static func rowsOnDisk(_ daemon: Daemon) throws -> Int {
        let out = try Loopback.run("/usr/bin/sqlite3", [daemon.dataDir + "/db/main.sqlite", "SELECT count(*) FROM orders_cents"])
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func theMigrationExampleMovesEveryRowOnce() throws {
        let daemon = try Daemon()
        let view = try daemon.run(try Self.migration(rows: 1200))
        #expect(view["state"] == "completed", "\(view["error"] ?? nil)")
        #expect(view["outputs"]?["migrate"] == ["pages": 3, "items": 1200], "\(view["outputs"] ?? nil)")
        #expect(view["outputs"]?["check"]?["rows"]?[0]?["n"] == 1200)
        // 1200 rows: amount = (i % 1000) / 4, so cents = (i % 1000) * 25.
        let cents = (1...1200).reduce(Int64(0)) { $0 + Int64($1 % 1000) * 25 }
        #expect(view["outputs"]?["check"]?["rows"]?[0]?["cents"] == .int(cents), "\(view["outputs"]?["check"] ?? nil)")
        // The view holds no page that ended: only the steps outside the loop and the loop.
        let ids = view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids == ["setup", "source", "migrate", "check"], "\(ids)")
    }

    @Test func aKill9InTheMiddleResumesWithEveryRowInsertedOnce() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec", json: try Self.migration(rows: 20_000))
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        // Some pages are in; many are not.
        #expect(try daemon.waitUntil(60) { ((try? Self.count(daemon)) ?? 0) >= 3000 })
        daemon.kill9()
        let atKill = try Self.rowsOnDisk(daemon)
        #expect(atKill < 20_000, "the kill came after the loop had ended (\(atKill) rows)")
        try daemon.start()
        #expect(try daemon.waitUntil(120) { try daemon.request("GET", "/exec/\(id)").1["state"] != "running" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["state"] == "completed", "\(view["error"] ?? nil)")
        #expect(view["outputs"]?["migrate"] == ["pages": 40, "items": 20_000], "\(view["outputs"] ?? nil)")
        #expect(try Self.count(daemon) == 20_000)
    }

    @Test func aCSVFileIsWalkedPageByPageByOffset() throws {
        let daemon = try Daemon()
        try FileManager.default.createDirectory(atPath: daemon.dataDir + "/files/imports", withIntermediateDirectories: true)
        var text = "id,name\r\n"
        for i in 1...2503 { text += i == 7 ? "7,\"two\r\nlines\"\r\n" : "\(i),n\(i)\r\n" }
        try text.write(toFile: daemon.dataDir + "/files/imports/big.csv", atomically: true, encoding: .utf8)
        let view = try daemon.run(["steps": [
            ["id": "table", "layer": "io-db", "op": "exec", "input": ["sql": "CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT)"]],
            ["id": "src", "layer": "io-file", "op": "csv.read", "input": ["path": "imports/big.csv"]],
            ["id": "each", "foreach": ["items_from": ["step": "src", "page": 500]], "as": "page", "concurrency": 3, "steps": [
                ["id": "insert", "layer": "io-db", "op": "exec", "input": [
                    "sql": "INSERT INTO names SELECT json_extract(value, '$.id'), json_extract(value, '$.name') FROM json_each(:rows)",
                    "params": ["rows": "{{ page }}"]]],
            ]],
            ["id": "check", "layer": "io-db", "op": "query", "input": ["sql": "SELECT count(*) AS n, max(id) AS top FROM names WHERE id != 7 OR name = 'two' || char(13, 10) || 'lines'"]],
        ]])
        #expect(view["state"] == "completed", "\(view["error"] ?? nil)")
        #expect(view["outputs"]?["each"] == ["pages": 6, "items": 2503], "\(view["outputs"] ?? nil)")
        #expect(view["outputs"]?["src"]?["row_count"] == 500, "the source step's own output is the first page")
        #expect(view["outputs"]?["check"]?["rows"]?[0] == ["n": 2503, "top": 2503], "\(view["outputs"]?["check"] ?? nil)")
    }
}
