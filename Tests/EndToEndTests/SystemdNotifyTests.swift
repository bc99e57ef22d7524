#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// jalmd's side of `Type=notify`, against a notify socket of the test's own: READY=1 only once every
/// layer has greeted, STATUS= lines, WATCHDOG=1 pings, RELOADING=1/READY=1 around SIGHUP, STOPPING=1.
/// The same under a real systemd is in SystemdTests.
@Suite(.serialized) struct SystemdNotifyTests {
    @Test func readyWaitsForASlowLayerAndThenTheWatchdogPings() throws {
        let notify = try NotifySocket()
        defer { notify.stop() }
        let started = Date()
        let daemon = try Daemon(
            manifests: ["io-http": Self.slowHello(ms: 1500)],
            environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "400000"])
        let ready = try #require(notify.wait(for: "READY=1"), "\(notify.lines)")
        #expect(ready.timeIntervalSince(started) >= 1.5, "READY=1 before the slow layer greeted")
        let waiting = notify.lines.first { $0.line.hasPrefix("STATUS=starting layers") }
        #expect(waiting.map { $0.at <= ready } == true, "\(notify.lines)")
        #expect(notify.lines.contains { $0.line.hasPrefix("STATUS=ready: 0 executions running, 6 layers") })
        #expect(try daemon.request("GET", "/health").0 == 200)
        // 400 ms watchdog: a ping at least every 200 ms.
        let before = notify.count("WATCHDOG=1")
        usleep(1_000_000)
        #expect(notify.count("WATCHDOG=1") - before >= 3, "\(notify.lines.suffix(10))")
        #expect(notify.count("READY=1") == 1)
        #expect(daemon.terminate() == 0)
        #expect(notify.wait(for: "STOPPING=1", seconds: 1) != nil)
    }

    @Test func aWatchdogMeantForAnotherProcessIsNotPinged() throws {
        let notify = try NotifySocket()
        defer { notify.stop() }
        let daemon = try Daemon(environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "200000",
                                              "WATCHDOG_PID": "1"])
        #expect(notify.wait(for: "READY=1") != nil)
        usleep(500_000)
        #expect(notify.count("WATCHDOG=1") == 0)
        #expect(daemon.terminate() == 0)
    }

    @Test func sighupSwapsAChangedLayerLiveAndNamesTheKeysThatNeedARestart() throws {
        let notify = try NotifySocket()
        defer { notify.stop() }
        let daemon = try Daemon(environment: ["NOTIFY_SOCKET": notify.address])
        #expect(notify.wait(for: "READY=1") != nil)
        let httpBefore = try #require(try daemon.layerPID("io-http"))
        let fileBefore = try #require(try daemon.layerPID("io-file"))
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 1500]],
        ]])
        #expect(s == 202)
        let id = try #require(r["execution_id"]?.stringValue)
        try appendConfig(daemon, "hello_timeout: 7s\nlayers: {io-http: {allow: [192.0.2.0/24]}}\n")
        let hup = Date()
        daemon.signal(SIGHUP)
        #expect(notify.wait(for: "RELOADING=1", after: hup) != nil, "\(notify.lines)")
        #expect(notify.wait(for: "READY=1", after: hup) != nil, "\(notify.lines)")
        #expect(try daemon.layerPID("io-http") != httpBefore, "io-http's settings changed: it must be swapped")
        #expect(try daemon.layerPID("io-file") == fileBefore, "io-file did not change: it must keep running")
        #expect(daemon.log.contains("reload.key=hello_timeout"), "\(daemon.log.suffix(2000))")
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let runs = try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["runs"]?.arrayValue ?? []
        #expect(runs.count == 1, "the running step was not disturbed: \(runs)")
        #expect(daemon.terminate() == 0)
    }

    @Test func sighupWithAnInvalidConfigKeepsTheRunningOne() throws {
        let daemon = try Daemon()
        try appendConfig(daemon, "no_such_key: 1\n")
        daemon.signal(SIGHUP)
        #expect(daemon.waitUntil(5) { daemon.log.contains("reload refused") }, "\(daemon.log.suffix(2000))")
        #expect(daemon.isRunning)
        #expect(try daemon.request("GET", "/health").0 == 200)
        #expect(daemon.terminate() == 0)
    }

    func appendConfig(_ daemon: Daemon, _ text: String) throws {
        let path = daemon.dataDir + ".yml"
        let config = try String(contentsOfFile: path, encoding: .utf8)
        try (config + "\n" + text).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A manifest serving io-http with the fixture that greets only after `ms`.
    static func slowHello(ms: Int) -> String {
        """
        name: io-http
        executable: \(Daemon.binDir)/jalm-fixture-layer
        args: [slow-hello]
        pool: 1
        max_inflight: 8
        env: {JALM_FIXTURE_LAYER: io-http, JALM_FIXTURE_HELLO_DELAY_MS: "\(ms)", JALM_FIXTURE_OPS: "\(Daemon.catalogOps(of: "io-http").joined(separator: ","))"}
        """
    }
}
