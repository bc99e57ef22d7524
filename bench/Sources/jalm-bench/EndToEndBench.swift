#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import JALMClient
import JALMWire

/// Benchmark 2: capsules through the Unix socket API into a real jalmd with the journal on (synchronous=FULL,
/// group commit). Each client submits with `?wait=` and measures submit-to-completed latency.
enum EndToEndBench {
    static func run(binDir: String, shareDir: String, dataDir: String, seconds: Double, clients: Int) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        for steps in [1, 3] {
            let capsule = Array(JSONWriter.bytes(capsuleJSON(steps: steps)))
            let (count, lat) = try drive(socket: socket, body: capsule, seconds: seconds, clients: clients)
            let rate = Double(count) / seconds
            print("e2e \(steps)-step capsules, \(clients) clients: \(fmt(rate, 0)) capsules/s  \(Stats(samples: lat).summary)")
            printResults("e2e_\(steps)step", rate: rate, Stats(samples: lat))
        }
    }

    static func capsuleJSON(steps: Int) -> JSONValue {
        var list: [JSONValue] = [["id": "s0", "layer": "io-file", "op": "sys.echo", "input": ["n": 1, "text": "hello"]]]
        for i in 1..<max(steps, 1) {
            list.append(["id": .string("s\(i)"), "layer": i % 2 == 1 ? "render-html" : "notify-mq", "op": "sys.echo",
                         "input": ["prev": .string("{{ steps.s\(i - 1).output.text }}"), "text": "hello"]])
        }
        return ["intent": "bench", "steps": .array(list)]
    }

    /// Runs `clients` threads that each submit-and-wait in a loop for `seconds`.
    static func drive(socket: String, body: [UInt8], seconds: Double, clients: Int) throws -> (Int, [Double]) {
        try drive(socket: socket, seconds: seconds, clients: clients) { _, _ in body }
    }

    /// The same with a body per client and iteration (`body(client, n)`). A capsule counts only when it
    /// completes; any that does not stops the benchmark with the first answer, since a rate measured over
    /// failures would look like a figure and be none.
    static func drive(socket: String, seconds: Double, clients: Int,
                      body: @escaping @Sendable (Int, Int) -> [UInt8]) throws -> (Int, [Double]) {
        let results = Mutex<(count: Int, latencies: [Double], failures: Int, first: String?)>((0, [], 0, nil))
        let group = DispatchGroup()
        let deadline = Date().addingTimeInterval(seconds)
        for c in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
                var mine: [Double] = []
                var n = 0
                let clock = ContinuousClock()
                while Date() < deadline {
                    let t0 = clock.now
                    let answer: String
                    do {
                        let r = try client.send(method: "POST", path: "/exec?wait=30", body: body(c, n), contentType: "application/json")
                        if r.status == 200, (try? JSONParser.parse(r.body))?["state"] == "completed" {
                            mine.append(microseconds(clock.now - t0))
                            n += 1
                            continue
                        }
                        answer = "HTTP \(r.status): \(String(decoding: r.body.prefix(2000), as: UTF8.self))"
                    } catch {
                        answer = "\(error)"
                    }
                    results.withLock { $0.failures += 1; $0.first = $0.first ?? answer }
                    break
                }
                results.withLock { $0.count += n; $0.latencies += mine }
                group.leave()
            }
        }
        group.wait()
        let r = results.withLock { $0 }
        if r.failures > 0 { throw BenchError("\(r.failures) capsule(s) did not complete; the first answer: \(r.first ?? "")") }
        return (r.count, r.latencies)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
