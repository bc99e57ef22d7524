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
    /// Three phases on one daemon, each after a warm-up of its own load: 1-step capsules from `clients`
    /// threads, 3-step from `clients`, and 3-step from one client (the serial latency). Each also reports
    /// the daemon's CPU per capsule (jalmd and every process below it, from /proc), which the noise of a
    /// shared machine moves far less than a rate.
    static func run(binDir: String, shareDir: String, dataDir: String, seconds: Double, warmup: Double, clients: Int) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        // The existing names (e2e_1step_*, e2e_3step_*) stay those of the `clients` phases.
        for (steps, c, name) in [(1, clients, "e2e_1step"), (3, clients, "e2e_3step"), (3, 1, "e2e_3step_c1")] {
            let capsule = Array(JSONWriter.bytes(capsuleJSON(steps: steps)))
            if warmup > 0 { _ = try drive(socket: socket, body: capsule, seconds: warmup, clients: c) }
            let before = ProcessTree(root: daemon.pid)
            let clock = ContinuousClock()
            let t0 = clock.now
            let (count, lat) = try drive(socket: socket, body: capsule, seconds: seconds, clients: c)
            // From the first submit to the last answer: capsules submitted before the deadline finish after it.
            let wall = microseconds(clock.now - t0) / 1e6
            let cpu = CPUUse(before: before, after: ProcessTree(root: daemon.pid))
            let rate = Double(count) / wall
            let stats = Stats(samples: lat)
            print("e2e \(steps)-step capsules, \(c) client(s)\(keepAlive ? ", keep-alive" : ", a connection per request"): \(fmt(rate, 0)) capsules/s  \(stats.summary)")
            printCPU(name, cpu, capsules: count)
            printResults(name, rate: rate, stats)
            print("RESULT \(name)_p90_us \(fmt(stats.percentile(90)))")
        }
    }

    /// The daemon's CPU per completed capsule, in total, for jalmd itself and for everything below it,
    /// then per process name so that the big spender shows.
    static func printCPU(_ name: String, _ cpu: CPUUse, capsules: Int) {
        let total = cpu.perCapsule(cpu.totalTicks, capsules)
        let jalmd = cpu.perCapsule(cpu.jalmdTicks, capsules)
        let layers = cpu.perCapsule(cpu.totalTicks - cpu.jalmdTicks, capsules)
        print("  daemon CPU per capsule: \(fmt(total)) µs (jalmd \(fmt(jalmd)) µs, layers and their children \(fmt(layers)) µs;"
              + " \(cpu.totalTicks) ticks of \(fmt(1e6 / ProcessTree.ticksPerSecond, 0)) µs over \(capsules) capsules)")
        let parts = cpu.byName.filter { $0.value != 0 }.sorted { $0.value > $1.value }
            .map { "\($0.key) \(fmt(cpu.perCapsule($0.value, capsules)))" }
        print("  per process (µs per capsule): " + parts.joined(separator: ", "))
        print("RESULT \(name)_cpu_us \(fmt(total))")
        print("RESULT \(name)_cpu_jalmd_us \(fmt(jalmd))")
        print("RESULT \(name)_cpu_layers_us \(fmt(layers))")
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
    /// With `limit`, the clients stop as soon as that many capsules have been submitted in all.
    static func drive(socket: String, body: [UInt8], seconds: Double, clients: Int, limit: Int = .max) throws -> (Int, [Double]) {
        try drive(socket: socket, seconds: seconds, clients: clients, limit: limit) { _, _ in body }
    }

    /// The same with a body per client and iteration (`body(client, n)`). A capsule counts only when it
    /// completes; any that does not stops the benchmark with the first answer, since a rate measured over
    /// failures would look like a figure and be none.
    static func drive(socket: String, seconds: Double, clients: Int, limit: Int = .max,
                      body: @escaping @Sendable (Int, Int) -> [UInt8]) throws -> (Int, [Double]) {
        let tickets = Atomic<Int>(0)
        let results = Mutex<(count: Int, latencies: [Double], failures: Int, first: String?)>((0, [], 0, nil))
        let group = DispatchGroup()
        let deadline = Date().addingTimeInterval(seconds)
        for c in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                let plain = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
                // Keep-alive by default, as HTTP client libraries do; JALM_BENCH_KEEPALIVE=0 opens a
                // connection per request (what `jalm` and curl in a loop do).
                let persistent = EndToEndBench.keepAlive ? KeepAliveClient(plain) : nil
                let client = { (method: String, path: String, body: [UInt8]) throws -> HTTPResponse in
                    if let persistent {
                        return try persistent.send(method: method, path: path, body: body, contentType: "application/json")
                    }
                    return try plain.send(method: method, path: path, body: body, contentType: "application/json")
                }
                var mine: [Double] = []
                var n = 0
                let clock = ContinuousClock()
                while Date() < deadline, tickets.add(1, ordering: .relaxed).oldValue < limit {
                    let t0 = clock.now
                    let answer: String
                    do {
                        let r = try client("POST", "/exec?wait=30", body(c, n))
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

extension EndToEndBench {
    /// Whether the clients keep their connection open between requests (`JALM_BENCH_KEEPALIVE`, default 1).
    static let keepAlive = ProcessInfo.processInfo.environment["JALM_BENCH_KEEPALIVE"] != "0"
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
