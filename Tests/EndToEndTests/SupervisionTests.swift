#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// Layers crash, misbehave and hang; the kernel notices, fails or re-runs their steps, and restarts them.
@Suite(.serialized) struct SupervisionTests {
    static let fast = """
        restart_base_delay: 10ms
        restart_max_delay: 50ms
        hello_timeout: 2s
        cancel_grace: 300ms
        """

    @Test func killingALayerMidStepReRunsTheRepeatableStepAndTheLayerComesBack() throws {
        let daemon = try Daemon(config: Self.fast)
        let before = try #require(try daemon.layerPID("render-html"))
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "render-html", "op": "sys.sleep", "input": ["ms": 800]],
        ]])
        #expect(s == 202)
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(200_000)
        kill(before, SIGKILL)
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        let runs = view["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.count == 2, "\(view)")
        #expect(runs.first?["error"]?["code"] == "layer_unavailable", "\(view)")
        let after = try #require(try daemon.layerPID("render-html"))
        #expect(after != before)
        #expect(try daemon.run(["steps": [["id": "e", "layer": "render-html", "op": "sys.echo", "input": ["ok": true]]]])["state"] == "completed")
        let layer = try daemon.layer("render-html")
        #expect((layer["restarts"]?.intValue ?? 0) >= 1)
        #expect(layer["events"]?.arrayValue?.contains { $0["event"] == "restart" } == true, "\(layer)")
    }

    @Test func anOversizeFrameFailsTheCallWithProtocolErrorAndRestartsTheLayer() throws {
        try misbehaves("oversize-frame")
    }

    @Test func aMalformedFrameFailsTheCallWithProtocolError() throws {
        try misbehaves("malformed-frame")
    }

    @Test func aReplyToAnUnknownCallFailsTheCallWithProtocolError() throws {
        try misbehaves("unknown-reply")
    }

    private func misbehaves(_ mode: String) throws {
        let daemon = try Daemon(fixtures: ["io-http": mode], config: Self.fast + "\nmax_restarts: 100")
        let before = try #require(try daemon.layerPID("io-http"))
        let view = try daemon.run(["steps": [
            ["id": "x", "layer": "io-http", "op": "sys.echo", "input": ["a": 1], "retry": ["max": 0]],
        ]])
        #expect(view["state"] == "failed")
        #expect(view["error"]?["code"] == "protocol_error", "\(view)")
        #expect(try daemon.waitUntil(10) { (try daemon.layerPID("io-http")).map { $0 != before } ?? false })
        #expect(try daemon.request("GET", "/").0 == 200)
    }

    @Test func aLayerThatCrashesAtStartIsQuarantinedAndRestartLiftsIt() throws {
        let daemon = try Daemon(fixtures: ["notify-mq": "crash-on-start"],
                                config: Self.fast + "\nmax_restarts: 2", waitForHealth: false)
        #expect(try daemon.waitUntil(10) { try daemon.layer("notify-mq")["state"] == "quarantined" })
        let layer = try daemon.layer("notify-mq")
        #expect(layer["quarantine_reason"]?.stringValue?.contains("exited with status 3") == true, "\(layer)")
        let (hs, health) = try daemon.request("GET", "/health")
        #expect(hs == 503 && health["status"] == "unavailable")
        let view = try daemon.run(["steps": [["id": "n", "layer": "notify-mq", "op": "sys.echo", "input": [:]]]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "layer_unavailable", "\(view)")
        let restartsBefore = layer["restarts"]?.intValue ?? 0
        #expect(try daemon.request("POST", "/layers/notify-mq/restart").0 == 200)
        // The fixture crashes again, so lifting the quarantine shows as fresh restarts.
        #expect(try daemon.waitUntil(10) { (try daemon.layer("notify-mq")["restarts"]?.intValue ?? 0) > restartsBefore })
        #expect(try daemon.request("GET", "/").0 == 200)
    }

    @Test func aLayerThatNeverSaysHelloIsKilledAndRestarted() throws {
        let daemon = try Daemon(fixtures: ["io-db": "no-hello"],
                                config: Self.fast.replacingOccurrences(of: "hello_timeout: 2s", with: "hello_timeout: 300ms")
                                    + "\nmax_restarts: 2", waitForHealth: false)
        #expect(try daemon.waitUntil(15) { try daemon.layer("io-db")["state"] == "quarantined" })
        let reason = try daemon.layer("io-db")["quarantine_reason"]?.stringValue ?? ""
        #expect(reason.contains("did not say hello"), "\(reason)")
    }

    @Test func aLayerThatGreetsWithAnotherProtocolIsRefused() throws {
        let daemon = try Daemon(fixtures: ["io-db": "wrong-protocol"], config: Self.fast + "\nmax_restarts: 1",
                                waitForHealth: false)
        #expect(try daemon.waitUntil(10) { try daemon.layer("io-db")["state"] == "quarantined" })
        let reason = try daemon.layer("io-db")["quarantine_reason"]?.stringValue ?? ""
        #expect(reason.contains("protocol 99"), "\(reason)")
    }

    @Test func aStepTimeoutCancelsTheCallAndTheLayerStopsIt() throws {
        let daemon = try Daemon(config: Self.fast)
        let pid = try daemon.layerPID("io-file")
        let view = try daemon.run(["steps": [
            ["id": "slow", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 5000], "timeout": "200ms", "retry": ["max": 0]],
        ]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "timeout", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "timed_out")
        #expect(try daemon.layerPID("io-file") == pid)  // it honoured cancel: no kill
    }

    @Test func aLayerThatIgnoresCancelIsKilledAfterTheGracePeriod() throws {
        let daemon = try Daemon(fixtures: ["io-http": "ignore-cancel"], config: Self.fast + "\nmax_restarts: 100")
        let pid = try #require(try daemon.layerPID("io-http"))
        let started = Date()
        let view = try daemon.run(["steps": [
            ["id": "slow", "layer": "io-http", "op": "sys.sleep", "input": ["ms": 60000], "timeout": "200ms", "retry": ["max": 0]],
        ]])
        #expect(view["error"]?["code"] == "timeout", "\(view)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try daemon.waitUntil(10) { (try daemon.layerPID("io-http")).map { $0 != pid } ?? false })
    }

    @Test func cancellingAnExecutionStopsItsStepInFlight() throws {
        let daemon = try Daemon(config: Self.fast)
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 30000]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(200_000)
        let (status, view) = try daemon.request("POST", "/exec/\(id)/cancel")
        #expect(status == 200 && view["state"] == "cancelled", "\(view)")
        #expect(try daemon.request("POST", "/exec/\(id)/cancel").0 == 409)
    }
}

@Suite(.serialized) struct SupervisionLimitTests {
    @Test func aLayerThatStopsAnsweringPingsIsRestarted() throws {
        let daemon = try Daemon(fixtures: ["io-http": "deaf"],
                                config: SupervisionTests.fast + "\nping_interval: 100ms\nping_timeout: 300ms\nmax_restarts: 100")
        let pid = try #require(try daemon.layerPID("io-http"))
        #expect(try daemon.waitUntil(5) { (try daemon.layerPID("io-http")).map { $0 != pid } ?? false })
        let lastError = try daemon.layer("io-http")["last_error"]?.stringValue ?? ""
        #expect(lastError.contains("stopped answering pings"), "\(lastError)")
    }

    @Test func retriesFollowTheStepRuleAndEachAttemptIsItsOwnRow() throws {
        let daemon = try Daemon(config: SupervisionTests.fast)
        let view = try daemon.run(["steps": [
            ["id": "s", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 2000], "timeout": "100ms",
             "retry": ["max": 2, "base": "10ms", "jitter": 0]],
        ]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "timeout", "\(view)")
        let runs = view["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.map { $0["attempt"]?.intValue ?? 0 } == [1, 2, 3], "\(view)")
        #expect(runs.allSatisfy { $0["state"] == "timed_out" })
    }

    @Test func callsBeyondMaxInflightWaitTheirTurnAndAllComplete() throws {
        // Fixture manifests set max_inflight: 8; 24 sleeps of 200 ms need at least three rounds.
        let daemon = try Daemon(fixtures: ["io-http": "echo"])
        let started = Date()
        var ids: [String] = []
        for i in 0..<24 {
            let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
                ["id": .string("s\(i)"), "layer": "io-http", "op": "sys.sleep", "input": ["ms": 200]],
            ]])
            ids.append(r["execution_id"]?.stringValue ?? "")
        }
        var maxInflight: Int64 = 0
        let done = try daemon.waitUntil(20) {
            maxInflight = max(maxInflight, try daemon.layer("io-http")["processes"]?[0]?["inflight"]?.intValue ?? 0)
            return try ids.allSatisfy { try daemon.request("GET", "/exec/\($0)").1["state"] == "completed" }
        }
        #expect(done)
        #expect(maxInflight <= 8)
        #expect(Date().timeIntervalSince(started) >= 0.6)
    }
}
