import Foundation
import JALMWire
import Testing

/// The SSRF corpus through the real daemon, io-http confined: each destination is refused with
/// forbidden_destination, and the test server's connection log proves that nothing reached it.
@Suite(.serialized) struct IOHTTPSSRFTests {
    /// Fails the step when the guard refuses `url`, and returns the step's error.
    private func refused(_ url: String, on daemon: Daemon) throws -> JSONValue {
        let view = try daemon.run(["steps": [
            ["id": "g", "layer": "io-http", "op": "get", "input": ["url": .string(url), "timeout_ms": 3000], "retry": ["max": 0]],
        ]])
        let error = view["steps"]?[0]?["error"] ?? .null
        #expect(view["state"] == "failed" && error["code"] == "invalid_input", "\(url): \(view)")
        #expect(error["details"]?["reason"] == "forbidden_destination", "\(url): \(error)")
        return error
    }

    @Test func theCorpusIsRefusedAndNoConnectionReachesTheServer() throws {
        let server = try HTTPService()
        defer { server.stop() }
        // No allowlist: loopback is as forbidden as the metadata address.
        let daemon = try Daemon()
        let p = server.httpPort
        var corpus = [
            "http://127.0.0.1:\(p)/", "http://localhost:\(p)/", "http://2130706433:\(p)/", "http://0x7f.1:\(p)/",
            "http://127.1:\(p)/", "http://0.0.0.0:\(p)/", "http://[::ffff:127.0.0.1]:\(p)/",
            "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
            "http://10.0.0.1/", "http://192.168.1.1/", "http://[fe80::1]/",
        ]
        if let p6 = server.http6Port { corpus.append("http://[::1]:\(p6)/") }
        for url in corpus { _ = try refused(url, on: daemon) }
        #expect(server.connections().isEmpty, "a refused request reached the server: \(server.connections())")
        // The layer survived every refusal: an allowed-nowhere daemon still answers its probe.
        #expect(try daemon.run(["steps": [["id": "e", "layer": "io-http", "op": "sys.echo", "input": ["ok": true]]]])["state"] == "completed")
    }

    @Test func aRedirectIntoABlockedRangeIsRefusedAtTheHop() throws {
        let server = try HTTPService()
        defer { server.stop() }
        guard let p6 = server.http6Port else {
            print("SKIP: no ::1 on this machine, so the redirect target cannot be a live blocked listener")
            return
        }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let error = try refused("\(server.httpURL)/redirect?to=http://[::1]:\(p6)/text", on: daemon)
        #expect(error["details"]?["address"]?.stringValue?.contains("::1") == true, "\(error)")
        // The allowed first hop connected; the blocked second hop never did.
        let log = server.connections()
        #expect(log.count == 1 && !log.contains { $0.contains("http6") }, "\(log)")
    }
}
