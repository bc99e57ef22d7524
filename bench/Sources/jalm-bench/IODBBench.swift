#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire

/// Benchmark: io-db single-row inserts/s and point selects/s through the whole runner (HTTP API, capsule
/// validation, journal, dispatch to the confined io-db plugin, the engine), each a 1-step capsule, with
/// 1 client and with 16. SQLite `main` always; PostgreSQL when `JALM_BENCH_PG_DSN` names a server
/// (bench/io-db.sh starts one and measures the floors: the sqlite3 CLI and pgbench, same statements).
enum IODBBench {
    static func run(binDir: String, shareDir: String, dataDir: String, seconds: Double) throws {
        try FileManager.default.createDirectory(atPath: dataDir + "/secrets", withIntermediateDirectories: true)
        let dsn = ProcessInfo.processInfo.environment["JALM_BENCH_PG_DSN"]
        var config = "data: \(dataDir)\nsocket: \(dataDir)/bench.sock\nlisten: none\n"
        if let dsn {
            try dsn.write(toFile: dataDir + "/secrets/bench_pg", atomically: true, encoding: .utf8)
            config += #"layers: {"io-db": {"databases": {"pg": {"engine": "postgres", "dsn": {"secret": "bench_pg"}, "pool": 4}}}}"# + "\n"
        }
        try config.write(toFile: dataDir + ".yml", atomically: true, encoding: .utf8)
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, config: dataDir + ".yml", socket: socket)
        defer { daemon.stop() }
        let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
        for (database, idType) in [("main", "INTEGER PRIMARY KEY")] + (dsn != nil ? [("pg", "serial PRIMARY KEY")] : []) {
            let setup = capsule(database, "exec", ["sql": .string("CREATE TABLE IF NOT EXISTS bench (id \(idType), v TEXT NOT NULL)")])
            let r = try client.send(method: "POST", path: "/exec?wait=30", body: setup, contentType: "application/json")
            guard r.status == 200, (try? JSONParser.parse(r.body))?["state"] == "completed" else {
                throw BenchError("io-db setup on \(database) failed: \(String(decoding: r.body, as: UTF8.self))")
            }
            let insert = capsule(database, "exec", ["sql": "INSERT INTO bench (v) VALUES (?)", "params": ["hello"]]
                .mapPlaceholders(database))
            let select = capsule(database, "query", ["sql": "SELECT v FROM bench WHERE id = ?", "params": [1]].mapPlaceholders(database))
            for (label, body) in [("insert", insert), ("select", select)] {
                for clients in [1, 16] {
                    let (count, lat) = try EndToEndBench.drive(socket: socket, body: body, seconds: seconds, clients: clients)
                    let rate = Double(count) / seconds
                    let engine = database == "main" ? "sqlite" : "pg"
                    print("iodb \(engine) \(label), \(clients) client(s): \(fmt(rate, 0)) capsules/s  \(Stats(samples: lat).summary)")
                    print("RESULT iodb_\(engine)_\(label)_c\(clients)_per_s \(fmt(rate, 0))")
                }
            }
        }
    }

    static func capsule(_ database: String, _ op: String, _ input: [String: JSONValue]) -> [UInt8] {
        var i = input
        i["database"] = .string(database)
        return JSONWriter.bytes(["intent": "bench io-db", "steps": [["id": "s", "layer": "io-db", "op": .string(op), "input": .object(i)]]])
    }
}

private extension Dictionary where Key == String, Value == JSONValue {
    /// PostgreSQL's placeholders are $n.
    func mapPlaceholders(_ database: String) -> [String: JSONValue] {
        guard database != "main", let sql = self["sql"]?.stringValue else { return self }
        var copy = self
        copy["sql"] = .string(sql.replacingOccurrences(of: "?", with: "$1"))
        return copy
    }
}
