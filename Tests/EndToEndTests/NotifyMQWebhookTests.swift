import Foundation
import JALMWire
import Testing

/// webhook through the real daemon (sandbox enforced) to a recording receiver on loopback.
@Suite(.serialized) struct NotifyMQWebhookTests {
    static func start() throws -> (WebhookService, Daemon) {
        let hook = try WebhookService()
        do {
            return (hook, try Daemon(config: TestServices.daemonConfig([hook]), secrets: hook.secrets))
        } catch {
            hook.stop()
            throw error
        }
    }

    static func step(_ input: JSONValue, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        NotifyMQRedisTests.step("webhook", input, extra)
    }

    static func header(_ request: [String: Any], _ name: String) -> String? {
        (request["headers"] as? [String: String])?.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    @Test func theReceiverGetsTheJSONSignedAndKeyedAndTheDocumentedCodeVerifiesIt() throws {
        let (hook, daemon) = try Self.start()
        defer { hook.stop() }
        let view = try daemon.run(Self.step(["url": .string(hook.url + "/orders"), "payload": ["order": 42, "note": "ü"],
                                             "signing_key": "hooks", "headers": ["X-Tenant": "acme"]]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["n"]?["status"] == 200)
        let request = try #require(hook.requests.first)
        #expect(request["path"] as? String == "/orders")
        #expect(request["body"] as? String == #"{"note":"ü","order":42}"#)
        #expect(Self.header(request, "Content-Type") == "application/json")
        #expect(Self.header(request, "Idempotency-Key") == "\(view["id"]?.stringValue ?? "")/n/1")
        #expect(Self.header(request, "X-Tenant") == "acme")
        let timestamp = try #require(Self.header(request, "X-JALM-Timestamp"))
        #expect(Self.header(request, "X-JALM-Signature")?.hasPrefix("t=\(timestamp),v1=") == true)
        #expect(view["outputs"]?["n"]?["signed_at"]?.intValue == Int64(timestamp))
        #expect(hook.verifies(0))
        // The deny twin: the same request does not verify under another secret.
        #expect(!hook.verifies(0, secret: "another-secret"))
    }

    /// The receiver answers 503 to the first request of a key: the step is retried with the same
    /// Idempotency-Key (a fresh timestamp and signature), which is what a receiver deduplicates on.
    @Test func aRetriedDeliveryCarriesTheSameIdempotencyKey() throws {
        let (hook, daemon) = try Self.start()
        defer { hook.stop() }
        let view = try daemon.run(Self.step(["url": .string(hook.url + "/flaky"), "payload": ["n": 1], "signing_key": "hooks"],
                                            ["retry": ["max": 2, "base": "50ms", "jitter": 0]]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 2, "\(view)")
        #expect(hook.requests.count == 2)
        let keys = Set(hook.requests.compactMap { Self.header($0, "Idempotency-Key") })
        #expect(keys.count == 1)
        #expect(hook.verifies(0) && hook.verifies(1))
    }

    @Test func aClientErrorIsNotRetriedAndAServerErrorIs() throws {
        let (hook, daemon) = try Self.start()
        defer { hook.stop() }
        let retry: [String: JSONValue] = ["retry": ["max": 1, "base": "20ms", "jitter": 0]]
        let gone = try daemon.run(Self.step(["url": .string(hook.url + "/status/410"), "payload": [:], "signing_key": "hooks"], retry))
        #expect(gone["steps"]?[0]?["error"]?["code"] == "upstream_error", "\(gone)")
        #expect(gone["steps"]?[0]?["error"]?["details"]?["status"] == 410, "\(gone)")
        #expect(gone["steps"]?[0]?["attempts"] == 1, "\(gone)")
        let down = try daemon.run(Self.step(["url": .string(hook.url + "/status/502"), "payload": [:], "signing_key": "hooks"], retry))
        #expect(down["steps"]?[0]?["attempts"] == 2, "\(down)")
    }

    @Test func loopbackIsRefusedWhenTheSettingsDoNotAllowIt() throws {
        let hook = try WebhookService()
        defer { hook.stop() }
        let daemon = try Daemon(config: #"layers: {"notify-mq": {"webhook": {"signing_keys": {"hooks": {"secret": "webhook_secret"}}}}}"#,
                                secrets: hook.secrets)
        let view = try daemon.run(Self.step(["url": .string(hook.url + "/x"), "payload": [:], "signing_key": "hooks"]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "invalid_input", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["details"]?["reason"] == "forbidden_destination", "\(view)")
        usleep(100_000)
        #expect(hook.requests.isEmpty)
    }

    @Test func aHeaderValueWithALineBreakIsRefused() throws {
        let (hook, daemon) = try Self.start()
        defer { hook.stop() }
        let view = try daemon.run(Self.step(["url": .string(hook.url + "/x"), "payload": [:], "signing_key": "hooks",
                                             "headers": ["X-A": "1\r\nX-Injected: yes"]]))
        #expect(view["steps"]?[0]?["error"]?["details"]?["reason"] == "header_injection", "\(view)")
        #expect(hook.requests.isEmpty)
    }

    @Test func aReceiverThatIsDownIsARetryableUpstreamError() throws {
        let (hook, daemon) = try Self.start()
        hook.stop()
        let view = try daemon.run(Self.step(["url": .string(hook.url + "/x"), "payload": [:], "signing_key": "hooks"]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "upstream_error", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["retryable"] == true, "\(view)")
    }
}
