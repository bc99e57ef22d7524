#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire

/// Benchmark 3: small files through the runner. 1-step capsules `io-file.write` (1 KiB, atomic: temp, fsync,
/// rename, fsync of the directory) and then `io-file.read` of the same files, from `clients` threads into a
/// real jalmd (journal on, layers sandboxed as configured by default). bench/run.sh prints these beside the
/// C ping-pong floor and `bench/iofile-direct.c`, which does the same file operations directly.
enum IOFileBench {
    static func run(binDir: String, shareDir: String, dataDir: String, seconds: Double, clients: Int) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        // Make every file once so that the read phase never misses.
        for c in 0..<clients {
            for n in 0..<files {
                let r = try UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
                    .send(method: "POST", path: "/exec?wait=30", body: body("write", client: c, n: n), contentType: "application/json")
                guard r.status == 200, (try? JSONParser.parse(r.body))?["state"] == "completed" else {
                    throw BenchError("io-file setup write failed: \(String(decoding: r.body, as: UTF8.self))")
                }
            }
        }
        for op in ["write", "read"] {
            let (count, lat) = try EndToEndBench.drive(socket: socket, seconds: seconds, clients: clients) { client, n in
                body(op, client: client, n: n)
            }
            let rate = Double(count) / seconds
            let stats = Stats(samples: lat)
            print("iofile 1 KiB \(op)s through the runner, \(clients) clients: \(fmt(rate, 0)) capsules/s  \(stats.summary)")
            print("RESULT iofile_\(op)_per_s \(fmt(rate, 0))")
            print("RESULT iofile_\(op)_p50_us \(fmt(stats.percentile(50)))")
        }
    }

    static let content = String(repeating: "x", count: 1024)
    /// Each client cycles over 64 files of its own, so writes replace files as steady-state automations do.
    static let files = 64

    static func body(_ op: String, client: Int, n: Int) -> [UInt8] {
        var input: [String: JSONValue] = ["path": .string("bench/c\(client)/f\(n % files).txt")]
        if op == "write" {
            input["content"] = .string(content)
            input["create_dirs"] = true
        }
        return JSONWriter.bytes(["intent": "bench", "steps": [["id": "s", "layer": "io-file", "op": .string(op),
                                                               "input": .object(input)]]])
    }
}
