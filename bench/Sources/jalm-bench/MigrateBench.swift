#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMDocument
import JALMWire

/// Issue 14's migration figure: examples/paged-migration.yml with 1,000,000 rows — SQLite → a transform
/// in compute-script's expr → SQLite, a page at a time — on a real daemon. Prints rows per second of the
/// loop, the peak RSS (VmHWM) of jalmd and of each layer process, and the journal's size. The floor beside
/// it: the same copy and transform as one `INSERT ... SELECT` in the sqlite3 CLI on the same disk.
enum MigrateBench {
    static func run(binDir: String, shareDir: String, dataDir: String, rows: Int, page: Int, concurrency: Int) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        let capsule = try migration(shareDir: shareDir, rows: rows, page: page, concurrency: concurrency)
        let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 3600)
        let clock = ContinuousClock()
        let t0 = clock.now
        let r = try client.send(method: "POST", path: "/exec?wait=3600", body: Array(JSONWriter.bytes(capsule)),
                                contentType: "application/json")
        let wall = microseconds(clock.now - t0) / 1e6
        let view = try JSONParser.parse(r.body)
        guard view["state"] == "completed", view["outputs"]?["check"]?["rows"]?[0]?["n"] == .int(Int64(rows)) else {
            throw BenchError("the migration did not complete: HTTP \(r.status) \(view["error"] ?? nil)")
        }
        let loopMs = view["steps"]?.arrayValue?.first { $0["id"] == "migrate" }?["duration_ms"]?.intValue ?? 0
        let loopRate = Double(rows) / (Double(loopMs) / 1000)
        print("migrate \(rows) rows, page \(page), concurrency \(concurrency): loop \(fmt(Double(loopMs) / 1000, 1)) s = "
              + "\(fmt(loopRate, 0)) rows/s (the whole capsule with setup \(fmt(wall, 1)) s)")
        print("RESULT migrate_rows_per_s \(fmt(loopRate, 0))")
        let peaks = ProcessTree(root: daemon.pid).processes.map { ($0.comm, peakRSS($0.pid)) }
        let jalmd = peakRSS(daemon.pid)
        print("  peak RSS (VmHWM): " + peaks.map { "\($0.0) \(fmt(Double($0.1) / 1024, 1)) MiB" }.joined(separator: ", "))
        print("RESULT migrate_jalmd_peak_rss_mib \(fmt(Double(jalmd) / 1024, 1))")
        print("RESULT migrate_tree_peak_rss_mib \(fmt(Double(peaks.map(\.1).reduce(0, +)) / 1024, 1))")
        let journal = fileSize(dataDir + "/journal.sqlite") + fileSize(dataDir + "/journal.sqlite-wal")
        print("  journal: \(fmt(Double(journal) / 1_048_576, 1)) MiB (\(fmt(Double(journal) / Double(rows), 0)) bytes per row: each page's rows are journaled with its fetch and its transform)")
        print("RESULT migrate_journal_bytes_per_row \(fmt(Double(journal) / Double(rows), 0))")
        try floor(dataDir: dataDir, rows: rows, loopRate: loopRate)
    }

    /// The example capsule with this run's sizes.
    static func migration(shareDir: String, rows: Int, page: Int, concurrency: Int) throws -> JSONValue {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: shareDir + "/examples/paged-migration.yml")))
        guard case .object(var capsule) = try Document.parse(bytes, contentType: "application/yaml"),
              case .array(var steps)? = capsule["steps"], let m = steps.firstIndex(where: { $0["id"] == "migrate" }),
              case .object(var loop) = steps[m] else { throw BenchError("examples/paged-migration.yml changed shape") }
        capsule["vars"] = ["rows": .int(Int64(rows))]
        loop["foreach"] = ["items_from": ["step": "source", "page": .int(Int64(page)), "key": "id"]]
        loop["concurrency"] = .int(Int64(concurrency))
        steps[m] = .object(loop)
        capsule["steps"] = .array(steps)
        return .object(capsule)
    }

    /// The same rows copied and transformed by SQLite alone, on the same disk: the floor.
    static func floor(dataDir: String, rows: Int, loopRate: Double) throws {
        let file = dataDir + "/floor.sqlite"
        let sql = """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE TABLE old_orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL NOT NULL);
            CREATE TABLE orders_cents (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, cents INTEGER NOT NULL);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO old_orders SELECT i, 'Customer ' || (i % 97), (i % 1000) / 4.0 FROM n;
            """
        try runSQLite(file, sql)
        let clock = ContinuousClock()
        let t0 = clock.now
        try runSQLite(file, "INSERT INTO orders_cents SELECT id, lower(customer), CAST(amount * 100 AS INTEGER) FROM old_orders;")
        let seconds = microseconds(clock.now - t0) / 1e6
        let rate = Double(rows) / seconds
        print("floor: sqlite3 INSERT ... SELECT of the same rows and transform: \(fmt(seconds, 2)) s = \(fmt(rate, 0)) rows/s; "
              + "the loop runs at \(fmt(loopRate / rate, 3)) of it")
        print("RESULT migrate_floor_rows_per_s \(fmt(rate, 0))")
    }

    static func runSQLite(_ file: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [file, sql]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("sqlite3 failed (\(p.terminationStatus))") }
    }

    /// VmHWM of a process, in KiB.
    static func peakRSS(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
