#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire

/// Issue 14's loop figure: one capsule whose `foreach` runs 10,000 `sys.echo` items 64 at a time, against
/// 10,000 one-step capsules of the same `sys.echo` from 64 clients, on the same daemon, alternated over
/// rounds. Target: the loop at >= 0.8x the rate of the separate capsules. Also the daemon's CPU per item.
enum ForeachBench {
    static func run(binDir: String, shareDir: String, dataDir: String, items: Int, rounds: Int) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        let one = Array(JSONWriter.bytes(["intent": "bench", "steps": [step("{{ vars.n }}")], "vars": ["n": 1]]))
        let loop = Array(JSONWriter.bytes([
            "intent": "bench foreach",
            "steps": [["id": "each", "foreach": .array((0..<items).map { JSONValue.int(Int64($0)) }), "concurrency": 64,
                       "steps": [step("{{ item }}")]]],
        ]))
        // Warm-up: the layers' first calls, the plan cache, the journal file.
        _ = try EndToEndBench.drive(socket: socket, body: one, seconds: 60, clients: 64, limit: 2000)
        _ = try submitAndWait(socket: socket, body: loop)
        var ratios: [Double] = []
        for round in 1...rounds {
            let (separate, separateCPU) = try measure(daemon, items) {
                let (count, _) = try EndToEndBench.drive(socket: socket, body: one, seconds: 600, clients: 64, limit: items)
                guard count == items else { throw BenchError("\(count) of \(items) capsules completed") }
            }
            let (looped, loopCPU) = try measure(daemon, items) {
                let view = try submitAndWait(socket: socket, body: loop)
                guard view["outputs"]?["each"]?.arrayValue?.count == items else {
                    throw BenchError("the foreach did not give \(items) outputs: \(view["state"] ?? nil) \(view["error"] ?? nil)")
                }
            }
            ratios.append(looped / separate)
            print("round \(round): foreach \(fmt(looped, 0)) items/s (daemon CPU \(fmt(loopCPU)) µs/item), "
                  + "\(items) one-step capsules from 64 clients \(fmt(separate, 0))/s (\(fmt(separateCPU)) µs/capsule): "
                  + "\(fmt(looped / separate, 2))x")
            print("RESULT foreach_items_per_s_r\(round) \(fmt(looped, 0))")
            print("RESULT foreach_separate_per_s_r\(round) \(fmt(separate, 0))")
            print("RESULT foreach_cpu_us_per_item_r\(round) \(fmt(loopCPU))")
            print("RESULT foreach_separate_cpu_us_r\(round) \(fmt(separateCPU))")
        }
        let median = ratios.sorted()[ratios.count / 2]
        print("foreach of \(items) items, concurrency 64, vs \(items) one-step capsules from 64 clients: median "
              + "\(fmt(median, 2))x over \(rounds) rounds (target >= 0.8x)")
        print("RESULT foreach_ratio_median \(fmt(median, 2))")
    }

    static func step(_ n: String) -> JSONValue {
        ["id": "echo", "layer": "compute-script", "op": "sys.echo", "input": ["n": .string(n), "text": "hello"]]
    }

    /// Items per second over `body`, and the daemon's CPU per item.
    static func measure(_ daemon: BenchDaemon, _ items: Int, _ body: () throws -> Void) throws -> (Double, Double) {
        let before = ProcessTree(root: daemon.pid)
        let clock = ContinuousClock()
        let t0 = clock.now
        try body()
        let wall = microseconds(clock.now - t0) / 1e6
        let cpu = CPUUse(before: before, after: ProcessTree(root: daemon.pid))
        return (Double(items) / wall, cpu.perCapsule(cpu.totalTicks, items))
    }

    static func submitAndWait(socket: String, body: [UInt8]) throws -> JSONValue {
        let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 600)
        let r = try client.send(method: "POST", path: "/exec?wait=600", body: body, contentType: "application/json")
        let view = try JSONParser.parse(r.body)
        guard r.status == 200, view["state"] == "completed" else {
            throw BenchError("HTTP \(r.status): \(String(decoding: r.body.prefix(2000), as: UTF8.self))")
        }
        return view
    }
}
