#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire

/// Journal bytes per 3-step capsule. Two daemons, each on a fresh data folder: A is started, becomes
/// healthy and is stopped; B is started, runs `capsules` 3-step capsules from `clients` threads, and is
/// stopped. SIGTERM makes jalmd checkpoint and close the journal, so after each stop the journal is one file
/// with nothing in a WAL. (B − A) / capsules is what the capsules added: both folders hold the same startup
/// rows (schema, layer events), and measuring "before" while a daemon runs would count its WAL and -shm
/// (tens of KiB that the checkpoint folds away), which is not the capsules' doing.
enum JournalBench {
    static let files = ["journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm"]

    static func run(binDir: String, shareDir: String, dataDir: String, capsules: Int, clients: Int) throws {
        let empty = dataDir + "/a", loaded = dataDir + "/b"
        let a = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: empty, socket: empty + "/bench.sock")
        a.stop()
        let b = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: loaded, socket: loaded + "/bench.sock")
        print("journal of a healthy daemon, running: \(describe(loaded))")
        let body = Array(JSONWriter.bytes(EndToEndBench.capsuleJSON(steps: 3)))
        let count: Int
        do {
            count = try EndToEndBench.drive(socket: b.socket, body: body, seconds: 3600, clients: clients, limit: capsules).0
        } catch { b.stop(); throw error }
        b.stop()
        guard count == capsules else { throw BenchError("\(count) of \(capsules) capsules completed") }
        let before = size(empty), after = size(loaded)
        print("journal after stop: fresh daemon \(describe(empty)); after \(capsules) 3-step capsules \(describe(loaded))")
        let perCapsule = Double(after - before) / Double(capsules)
        print("journal bytes per 3-step capsule: \(fmt(perCapsule)) (\(after - before) bytes over \(capsules) capsules, \(clients) clients)")
        print("RESULT journal_bytes_per_3step \(fmt(perCapsule))")
        pageAccounting(empty: empty + "/journal.sqlite", loaded: loaded + "/journal.sqlite", capsules: capsules)
    }

    static func size(_ dir: String) -> Int {
        files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1))?[.size] as? Int ?? 0) }
    }

    static func describe(_ dir: String) -> String {
        files.compactMap { f in
            ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + f))?[.size] as? Int).map { "\(f) \($0)" }
        }.joined(separator: " + ") + " = \(size(dir)) bytes"
    }

    /// Where the bytes went, if the sqlite3 CLI is installed (scripts/deps.d/core.apt lists it): pages in
    /// use and free, then per table and index the bytes of its pages and of its payload (dbstat), per
    /// capsule. The files are opened immutable, so that reading them changes nothing.
    static func pageAccounting(empty: String, loaded: String, capsules: Int) {
        let pragmas = "PRAGMA page_size; PRAGMA page_count; PRAGMA freelist_count;"
        guard let a = sqlite(empty, pragmas), let b = sqlite(loaded, pragmas) else {
            print("  (no sqlite3 CLI: no page accounting)")
            return
        }
        print("  pages (size, count, free): fresh \(a.joined(separator: ", ")); after \(b.joined(separator: ", "))")
        let query = "SELECT name || ' ' || SUM(pgsize) || ' ' || SUM(payload) FROM dbstat GROUP BY name;"
        guard let before = sqlite(empty, query), let after = sqlite(loaded, query) else { return }
        func table(_ lines: [String]) -> [String: (Int, Int)] {
            Dictionary(lines.compactMap { l -> (String, (Int, Int))? in
                let f = l.split(separator: " ")
                guard f.count == 3, let p = Int(f[1]), let d = Int(f[2]) else { return nil }
                return (String(f[0]), (p, d))
            }, uniquingKeysWith: { x, _ in x })
        }
        let old = table(before)
        let grown = table(after).map { name, v in (name, v.0 - (old[name]?.0 ?? 0), v.1 - (old[name]?.1 ?? 0)) }
            .filter { $0.1 != 0 }.sorted { $0.1 > $1.1 }
        print("  per capsule, by table or index (pages / payload bytes): "
              + grown.map { "\($0.0) \(fmt(Double($0.1) / Double(capsules))) / \(fmt(Double($0.2) / Double(capsules)))" }.joined(separator: ", "))
    }

    /// The output lines of `sqlite3 'file:PATH?immutable=1' SQL`, or nil if the CLI is missing or fails.
    static func sqlite(_ path: String, _ sql: String) -> [String]? {
        guard let cli = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map({ $0 + "/sqlite3" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cli)
        p.arguments = ["file:\(path)?immutable=1", sql]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
