import Foundation
import JALMClient
import JALMNet
import JALMWire

/// Benchmark: io-http GETs through the whole runner (HTTP API on the control socket, capsule validation,
/// journal, dispatch to the confined io-http plugin, libcurl, the SSRF guard) against the static server at
/// `JALM_BENCH_HTTP_URL`, each a 1-step capsule `io-http.get`, with 1 client and with 16. bench/io-http.sh
/// starts nginx and measures the floors on the same URL in the same run: `wrk` and `curl` in a loop.
enum IOHTTPBench {
    static func run(binDir: String, shareDir: String, dataDir: String, seconds: Double) async throws {
        guard let url = ProcessInfo.processInfo.environment["JALM_BENCH_HTTP_URL"] else {
            throw BenchError("set JALM_BENCH_HTTP_URL (bench/io-http.sh starts nginx and sets it)")
        }
        try await inProcess(url: url, seconds: seconds)
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let socket = dataDir + "/bench.sock"
        // The guard refuses loopback by default; the operator's allowlist opens the bench server's address.
        let config = "data: \(dataDir)\nsocket: \(socket)\nlisten: none\n"
            + #"layers: {"io-http": {"allow": ["127.0.0.1/32"]}}"# + "\n"
        try config.write(toFile: dataDir + ".yml", atomically: true, encoding: .utf8)
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, config: dataDir + ".yml", socket: socket)
        defer { daemon.stop() }
        let get = capsule(op: "get", input: ["url": .string(url)])
        let output = try checkOnce(socket: socket, body: get)
        // `sys.echo` on the same plugin brackets the runner's share (API, journal, dispatch): given the GET's
        // input it moves fewer bytes than the GET (a lower bound); given the GET's output it moves those
        // bytes both ways (an upper bound). What the GET itself costs in io-http lies between.
        let echoes = [("echo_small", capsule(op: "sys.echo", input: ["url": .string(url)])), ("echo", capsule(op: "sys.echo", input: output))]
        for (label, body) in [("get", get)] + echoes {
            for clients in [1, 16] {
                let (count, lat) = try EndToEndBench.drive(socket: socket, body: body, seconds: seconds, clients: clients)
                let rate = Double(count) / seconds
                let stats = Stats(samples: lat)
                let name = label == "get" ? "iohttp_c\(clients)" : "iohttp_\(label)_c\(clients)"
                print("io-http \(label), \(clients) client(s): \(fmt(rate, 0)) capsules/s  \(stats.summary)")
                printResults(name, rate: rate, stats)
            }
        }
    }

    static func capsule(op: String, input: JSONValue) -> [UInt8] {
        JSONWriter.bytes(["intent": "bench io-http", "steps": [["id": "get", "layer": "io-http", "op": .string(op),
                                                               "input": input]]])
    }

    /// The same GET through JALMNet in this process (the libcurl multi thread and the guard, as io-http uses
    /// them, without plugin, dispatch, kernel or journal): 1 caller, then 16 tasks at once.
    static func inProcess(url: String, seconds: Double) async throws {
        let client = NetClient(policy: try AddressPolicy(allow: ["127.0.0.1/32"]))
        let request = NetRequest(url: url)
        let first = try await client.perform(request)
        guard first.status == 200 else { throw BenchError("JALMNet GET \(url) answered \(first.status)") }
        for callers in [1, 16] {
            let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
            let all = await withTaskGroup(of: [Double].self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        var mine: [Double] = []
                        let clock = ContinuousClock()
                        while clock.now < deadline {
                            let t0 = clock.now
                            guard let r = try? await client.perform(request), r.status == 200 else { continue }
                            mine.append(microseconds(clock.now - t0))
                        }
                        return mine
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            let stats = Stats(samples: all)
            let rate = Double(all.count) / seconds
            print("JALMNet in process, \(callers) caller(s): \(fmt(rate, 0)) GETs/s  \(stats.summary)")
            printResults("iohttp_inprocess_c\(callers)", rate: rate, stats)
        }
    }

    /// One run first: the step must complete with status 200 (a refused address stops the benchmark with
    /// its reason). Returns the step's output, the upper-bound echo's input.
    static func checkOnce(socket: String, body: [UInt8]) throws -> JSONValue {
        let r = try UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
            .send(method: "POST", path: "/exec?wait=30", body: body, contentType: "application/json")
        let text = String(decoding: r.body, as: UTF8.self)
        guard r.status == 200, let v = try? JSONParser.parse(r.body), v["state"] == "completed",
              let output = v["outputs"]?["get"], output["status"] == 200
        else { throw BenchError("io-http check run failed: \(text)") }
        return output
    }
}
