#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMStore
import JALMWire
import Synchronization
import Testing

/// Every layer swapped 50 times, alternating two builds that report different versions, under a continuous
/// stream of capsules with quick and slow steps: no step lost, none run twice, every execution completes.
@Suite(.serialized) struct SwapLoadTests {
    static let layers = ["io-http", "io-db", "io-file", "compute-script", "render-html", "notify-mq"]
    static let swapsPerLayer = 50

    static func manifestText(_ layer: String, version: String) -> String {
        """
        name: \(layer)
        executable: \(Daemon.binDir)/jalm-fixture-layer
        args: [echo]
        version: \(version)
        pool: 1
        max_inflight: 64
        env: {JALM_FIXTURE_LAYER: \(layer), JALM_FIXTURE_OPS: "\(Daemon.catalogOps(of: layer).joined(separator: ","))", JALM_FIXTURE_VERSION: \(version)}
        """
    }

    @Test func fiftySwapsOfEveryLayerUnderLoadLoseNothingAndRunNothingTwice() throws {
        var manifests: [String: String] = [:]
        var files: [String: [String]] = [:]
        let dir = Daemon.makeTempDir()
        for layer in Self.layers {
            manifests[layer] = Self.manifestText(layer, version: "A")
            files[layer] = try ["A", "B"].map { v in
                let path = "\(dir)/\(layer)-\(v).yml"
                try Self.manifestText(layer, version: v).write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
        }
        let daemon = try Daemon(manifests: manifests, config: "journal_sync: normal")
        let socket = daemon.socketPath
        let stop = Mutex(false)
        let submitted = Mutex<[String]>([])
        let phase = Mutex(0)  // 0: before swaps, 1: swapping
        let group = DispatchGroup()
        for client in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                let http = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
                var n = 0
                while !stop.withLock({ $0 }) {
                    let layer = Self.layers[(client + n) % Self.layers.count]
                    n += 1
                    let capsule: JSONValue = ["intent": .string("load-\(phase.withLock { $0 })"), "steps": [
                        ["id": "quick", "layer": .string(layer), "op": "sys.echo", "input": ["n": .int(Int64(n))]],
                        ["id": "slow", "layer": .string(layer), "op": "sys.sleep", "input": ["ms": 30]],
                    ]]
                    if let r = try? http.send(method: "POST", path: "/exec", body: JSONWriter.bytes(capsule),
                                              contentType: "application/json"), r.status == 202,
                       let id = (try? JSONParser.parse(r.body))?["execution_id"]?.stringValue {
                        submitted.withLock { $0.append(id) }
                    }
                    usleep(2_000)
                }
                group.leave()
            }
        }
        sleep(2)  // a baseline without swaps
        phase.withLock { $0 = 1 }
        var durations: [Double] = []
        var failures: [String] = []
        for round in 0..<Self.swapsPerLayer {
            for layer in Self.layers {
                let (status, record) = try daemon.request(
                    "POST", "/layers/\(layer)/swap",
                    json: ["manifest": .string(files[layer]![(round + 1) % 2]), "timeout": 10], timeout: 40)
                if status != 200 { failures.append("\(layer) round \(round): \(record)") }
                durations.append(record["duration_ms"]?.doubleValue ?? .nan)
            }
        }
        stop.withLock { $0 = true }
        group.wait()
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let ids = submitted.withLock { $0 }
        #expect(ids.count > 500, "the load was too light: \(ids.count) capsules")
        #expect(try daemon.waitUntil(60) {
            try daemon.request("GET", "/exec?state=running&limit=1").1["items"]?.arrayValue?.isEmpty == true
                && daemon.request("GET", "/exec?state=pending&limit=1").1["items"]?.arrayValue?.isEmpty == true
        })
        #expect(try daemon.request("GET", "/exec?state=failed&limit=5").1["items"]?.arrayValue?.isEmpty == true)
        for layer in Self.layers {
            #expect(try daemon.layer(layer)["version"] == (Self.swapsPerLayer % 2 == 0 ? "A" : "B"))
        }
        #expect(daemon.terminate() == 0)

        // The journal: every step of every execution ran exactly once and ended ok.
        let journal = try JournalFile(daemon.dataDir)
        var before: [Double] = []
        var during: [Double] = []
        for id in ids {
            let runs = try journal.runs(id)
            #expect(runs.count == 2 && runs.allSatisfy { $0.state == "ok" && $0.attempt == 1 }, "\(id): \(runs.map(\.state))")
            guard let quick = runs.first(where: { $0.step == "quick" }), let a = quick.dispatchedAt,
                  let b = quick.finishedAt, let intent = try journal.intent(id) else { continue }
            if intent == "load-0" { before.append(Double(b - a)) } else { during.append(Double(b - a)) }
        }
        func p(_ xs: [Double], _ q: Double) -> Double {
            let s = xs.sorted()
            return s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count) * q))]
        }
        let valid = durations.filter { !$0.isNaN }
        print("SWAP FIGURES: \(valid.count) swaps, duration p50 \(p(valid, 0.5)) ms p99 \(p(valid, 0.99)) ms; "
            + "\(ids.count) capsules; quick-step latency p99 \(p(before, 0.99)) ms without swaps "
            + "(\(before.count)) vs \(p(during, 0.99)) ms during swaps (\(during.count)) (journal ms resolution)")
    }
}
