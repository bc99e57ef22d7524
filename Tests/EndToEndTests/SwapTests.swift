#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire
import Synchronization
import Testing

/// Hot swap: the new generation proves itself (hello, ops, audit, a probe call) before it gets a call;
/// the old one drains; a bad new generation leaves the old one serving.
@Suite(.serialized) struct SwapTests {
    static let config = "hello_timeout: 1s\nrestart_base_delay: 10ms"

    /// A manifest file for io-http served by the fixture in `mode`, reporting `version`.
    static func manifest(_ mode: String, version: String, ops: String? = nil) throws -> String {
        let path = Daemon.makeTempDir() + "/plugin.yml"
        let opsList = ops ?? Daemon.catalogOps(of: "io-http").joined(separator: ",")
        try """
            name: io-http
            executable: \(Daemon.binDir)/jalm-fixture-layer
            args: [\(mode)]
            version: \(version)
            pool: 1
            max_inflight: 16
            env: {JALM_FIXTURE_LAYER: io-http, JALM_FIXTURE_OPS: "\(opsList)", JALM_FIXTURE_VERSION: \(version)}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func swap(_ daemon: Daemon, manifest: String, timeout: Double = 10) throws -> (Int, JSONValue) {
        try daemon.request("POST", "/layers/io-http/swap", json: ["manifest": .string(manifest), "timeout": .double(timeout)],
                           timeout: timeout + 20)
    }

    @Test func aSwapUnderLoadLosesNoStepAndTheOldGenerationFinishesItsCalls() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: Self.config)
        let oldPID = try #require(try daemon.layerPID("io-http"))
        // Slow steps in flight on the old generation when the swap happens.
        var ids: [String] = []
        for i in 0..<6 {
            let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
                ["id": .string("s\(i)"), "layer": "io-http", "op": "sys.sleep", "input": ["ms": 400]],
                ["id": "e", "layer": "io-http", "op": "sys.echo", "input": ["i": .int(Int64(i))]],
            ]])
            ids.append(r["execution_id"]?.stringValue ?? "")
        }
        usleep(100_000)
        let (status, record) = try swap(daemon, manifest: try Self.manifest("echo", version: "build-B"))
        #expect(status == 200 && record["result"] == "ok", "\(record)")
        #expect((record["drained_calls"]?.intValue ?? 0) >= 1, "\(record)")
        #expect(try daemon.layer("io-http")["version"] == "build-B")
        #expect(try daemon.layerPID("io-http") != oldPID)
        #expect(try daemon.waitUntil(15) {
            try ids.allSatisfy { try daemon.request("GET", "/exec/\($0)").1["state"] == "completed" }
        })
        for id in ids {
            let runs = try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["runs"]?.arrayValue ?? []
            #expect(runs.count == 1, "a step ran twice or failed: \(runs)")
        }
        // The swap event is queued to the journal's writer; it is visible once that write lands.
        #expect(try daemon.waitUntil(5) {
            let events = try daemon.layer("io-http")["events"]?.arrayValue ?? []
            return events.contains { $0["event"] == "swap" && $0["detail"]?["result"] == "ok" }
        }, "no swap event with result ok in the journal")
        // Who asked: the control socket's peer credentials.
        #expect(record["by"]?.stringValue?.hasPrefix("uid \(getuid()) pid ") == true, "\(record)")
    }

    @Test(arguments: ["crash-on-start", "wrong-protocol", "no-hello", "violate-on-call"])
    func aBadNewGenerationIsRefusedAndTheOldOneKeepsServing(mode: String) throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: Self.config)
        let oldPID = try #require(try daemon.layerPID("io-http"))
        let (status, problem) = try swap(daemon, manifest: try Self.manifest(mode, version: "bad"))
        #expect(status == 422, "\(problem)")
        #expect(problem["detail"]?.stringValue?.contains("old generation keeps serving") == true, "\(problem)")
        #expect(try daemon.layerPID("io-http") == oldPID)
        #expect(try daemon.layer("io-http")["version"] == "fixture-echo")
        let view = try daemon.run(["steps": [["id": "e", "layer": "io-http", "op": "sys.echo", "input": ["ok": true]]]])
        #expect(view["state"] == "completed", "\(view)")
    }

    @Test func aNewGenerationMissingAnOpIsRefused() throws {
        let daemon = try Daemon(fixtures: ["io-file": "echo"], config: Self.config)
        let path = Daemon.makeTempDir() + "/plugin.yml"
        try """
            name: io-file
            executable: \(Daemon.binDir)/jalm-fixture-layer
            args: [echo]
            env: {JALM_FIXTURE_LAYER: io-file, JALM_FIXTURE_OPS: "read"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, problem) = try daemon.request("POST", "/layers/io-file/swap", json: ["manifest": .string(path)])
        #expect(status == 422 && problem["detail"]?.stringValue?.contains("does not implement ops") == true, "\(problem)")
    }

    @Test func aSwapWhileAnotherSwapRunsIsAConflict() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: Self.config)
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "s", "layer": "io-http", "op": "sys.sleep", "input": ["ms": 1500]],
        ]])
        _ = r
        usleep(100_000)
        let first = Mutex<Int>(0)
        let manifest = try Self.manifest("echo", version: "build-B")
        let done = DispatchSemaphore(value: 0)
        let socket = daemon.socketPath
        Thread.detachNewThread {
            let status = (try? Daemon.post(socket: socket, "/layers/io-http/swap", ["manifest": .string(manifest)])) ?? -1
            first.withLock { $0 = status }
            done.signal()
        }
        usleep(300_000)  // the first swap is draining the 1.5 s sleep now
        let (status, problem) = try swap(daemon, manifest: manifest)
        #expect(status == 409 && problem["code"] == "conflict", "\(problem)")
        done.wait()
        #expect(first.withLock { $0 } == 200)
    }

    @Test func rollbackReturnsToThePreviousGeneration() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: Self.config)
        #expect(try swap(daemon, manifest: try Self.manifest("echo", version: "build-B")).0 == 200)
        #expect(try daemon.layer("io-http")["version"] == "build-B")
        let (status, record) = try daemon.request("POST", "/layers/io-http/rollback")
        #expect(status == 200 && record["result"] == "ok", "\(record)")
        #expect(try daemon.layer("io-http")["version"] == "fixture-echo")
    }

    @Test func killingTheNewGenerationAfterASwapIsSurvivedBySupervision() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: Self.config)
        #expect(try swap(daemon, manifest: try Self.manifest("echo", version: "build-B")).0 == 200)
        let pid = try #require(try daemon.layerPID("io-http"))
        kill(pid, SIGKILL)
        // Respawned from the swapped-in manifest, not the original one.
        #expect(try daemon.waitUntil(10) {
            let layer = try daemon.layer("io-http")
            return layer["processes"]?[0]?["pid"]?.intValue.map { $0 != Int64(pid) } == true
                && layer["version"] == "build-B" && layer["state"] == "ready"
        })
        let view = try daemon.run(["steps": [["id": "e", "layer": "io-http", "op": "sys.echo", "input": [:]]]])
        #expect(view["state"] == "completed", "\(view)")
    }
}

extension Daemon {
    /// A POST from another thread (the harness's request() is tied to one daemon instance).
    static func post(socket: String, _ path: String, _ body: JSONValue) throws -> Int {
        try UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
            .send(method: "POST", path: path, body: JSONWriter.bytes(body), contentType: "application/json").status
    }
}

@Suite(.serialized) struct SwapCLITests {
    @Test func theCLISwapsAndRollsBack() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: SwapTests.config)
        let manifest = try SwapTests.manifest("echo", version: "build-C")
        for (args, expected) in [(["layer", "swap", "io-http", "--manifest", manifest], "build-C"),
                                 (["layer", "rollback", "io-http"], "fixture-echo")] {
            let log = Daemon.makeTempDir() + "/cli.log"
            let pid = try Daemon.spawn(Daemon.binDir + "/jalm", ["--socket", daemon.socketPath] + args, log: log)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let out = try String(contentsOfFile: log, encoding: .utf8)
            #expect((status >> 8) & 0xFF == 0, "\(args): \(out)")
            #expect(out.contains("swapped:"), "\(out)")
            #expect(try daemon.layer("io-http")["version"] == .string(expected))
        }
    }
}

@Suite(.serialized) struct PythonSwapTests {
    @Test func thePythonPluginIsSwappedInAndOutUnderLoad() throws {
        // render-html's real ops are not the Python example's: the catalog here routes only sys.* to it.
        let daemon = try Daemon(systemOpsOnly: ["render-html"])
        let socket = daemon.socketPath
        let stop = Mutex(false)
        let ids = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let http = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
            while !stop.withLock({ $0 }) {
                let capsule: JSONValue = ["steps": [
                    ["id": "e", "layer": "render-html", "op": "sys.echo", "input": ["x": 1]],
                    ["id": "s", "layer": "render-html", "op": "sys.sleep", "input": ["ms": 20]],
                ]]
                if let r = try? http.send(method: "POST", path: "/exec", body: JSONWriter.bytes(capsule),
                                          contentType: "application/json"),
                   let id = (try? JSONParser.parse(r.body))?["execution_id"]?.stringValue {
                    ids.withLock { $0.append(id) }
                }
                usleep(5_000)
            }
            done.signal()
        }
        usleep(300_000)
        let python = Daemon.repoDir + "/plugins/examples/python-echo/plugin.yml"
        let (s1, r1) = try daemon.request("POST", "/layers/render-html/swap", json: ["manifest": .string(python)], timeout: 40)
        #expect(s1 == 200 && r1["result"] == "ok", "\(r1)")
        #expect(try daemon.layer("render-html")["version"] == "0.1.0-python")
        usleep(500_000)
        let (s2, r2) = try daemon.request("POST", "/layers/render-html/rollback", timeout: 40)
        #expect(s2 == 200 && r2["result"] == "ok", "\(r2)")
        #expect(try daemon.layer("render-html")["version"] == .string(jalmVersion))
        usleep(300_000)
        stop.withLock { $0 = true }
        done.wait()
        let all = ids.withLock { $0 }
        #expect(all.count > 20)
        #expect(try daemon.waitUntil(20) {
            try all.allSatisfy { try daemon.request("GET", "/exec/\($0)").1["state"] == "completed" }
        })
    }
}

@Suite(.serialized) struct SwapDrainKillTests {
    @Test func killing9EitherGenerationDuringTheDrainLosesNoRepeatableStep() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: SwapTests.config)
        let oldPID = try #require(try daemon.layerPID("io-http"))
        var ids: [String] = []
        for i in 0..<4 {
            let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
                ["id": .string("s\(i)"), "layer": "io-http", "op": "sys.sleep", "input": ["ms": 1500]],
            ]])
            ids.append(r["execution_id"]?.stringValue ?? "")
        }
        usleep(150_000)
        let manifest = try SwapTests.manifest("echo", version: "build-B")
        let socket = daemon.socketPath
        let swapStatus = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            swapStatus.withLock { $0 = (try? Daemon.post(socket: socket, "/layers/io-http/swap",
                                                         ["manifest": .string(manifest), "timeout": 10])) ?? -1 }
            done.signal()
        }
        // Wait until the new generation serves, then kill both: the old one mid-drain, the new one too.
        #expect(try daemon.waitUntil(10) { try daemon.layer("io-http")["version"] == "build-B" })
        let newPID = try #require(try daemon.layerPID("io-http"))
        kill(oldPID, SIGKILL)
        kill(newPID, SIGKILL)
        done.wait()
        #expect(swapStatus.withLock { $0 } == 200)
        // The sleeps in flight on the old process fail with layer_unavailable and, being repeatable, are
        // retried on the (restarted) new generation.
        #expect(try daemon.waitUntil(20) {
            try ids.allSatisfy { try daemon.request("GET", "/exec/\($0)").1["state"] == "completed" }
        })
        let runs = try daemon.request("GET", "/exec/\(ids[0])").1["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.count == 2 && runs.first?["error"]?["code"] == "layer_unavailable", "\(runs)")
        #expect(try daemon.waitUntil(10) { try daemon.layer("io-http")["state"] == "ready" })
    }
}

@Suite(.serialized) struct SwapLimitTests {
    @Test func aBadSwapRequestIs422WithThePointerAndNothingChanges() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: SwapTests.config)
        let pid = try daemon.layerPID("io-http")
        let notJSON = try daemon.request("POST", "/layers/io-http/swap", body: Array("{nope".utf8),
                                         contentType: "application/json")
        #expect(notJSON.0 == 422 && notJSON.1["pointer"] == "", "\(notJSON.1)")
        for t: JSONValue in [0, 3601, "soon"] {
            let (status, p) = try daemon.request("POST", "/layers/io-http/swap",
                                                 json: ["binary": "/bin/true", "timeout": t])
            #expect(status == 422 && p["pointer"] == "/timeout", "\(t): \(p)")
        }
        let relative = try daemon.request("POST", "/layers/io-http/swap", json: ["binary": "jalm-layer-io-http"])
        #expect(relative.0 == 422 && relative.1["pointer"] == "/binary", "\(relative.1)")
        #expect(try daemon.request("POST", "/layers/io-http/rollback").0 == 409)  // nothing to roll back to
        #expect(try daemon.layerPID("io-http") == pid)
    }

    @Test func anOldGenerationStillBusyAtTheSwapTimeoutIsKilledAndItsRepeatableStepRetried() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], config: SwapTests.config)
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "s", "layer": "io-http", "op": "sys.sleep", "input": ["ms": 3000]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(150_000)
        let started = Date()
        let (status, record) = try daemon.request(
            "POST", "/layers/io-http/swap",
            json: ["manifest": .string(try SwapTests.manifest("echo", version: "build-B")), "timeout": 0.3], timeout: 30)
        #expect(status == 200 && record["drained_calls"] == 1, "\(record)")
        #expect(Date().timeIntervalSince(started) < 2.5, "the swap waited for the whole 3 s call")
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let runs = try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.count == 2 && runs.last?["plugin_version"] == "build-B", "\(runs)")
    }
}
