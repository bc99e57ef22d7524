import Foundation
import JALMWire

/// A webhook receiver (Tests/NotifyMQServers/webhook_receiver.py) on a free loopback port that records
/// every request; notify-mq may reach it because the settings allow 127.0.0.1 (the SSRF guard refuses
/// loopback otherwise). The signing key `hooks` is the secret `webhook_secret`.
final class WebhookService: TestService {
    let port: Int
    let dir: String
    let secret = "whsec-test-secret"
    let helper: BackgroundHelper

    init() throws {
        dir = Daemon.makeTempDir()
        port = Loopback.freePort()
        helper = try BackgroundHelper([Loopback.helpers + "/webhook_receiver.py", String(port)],
                                      output: dir + "/requests.jsonl")
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var vars: [String: JSONValue] { ["webhook_url": .string(url)] }
    var layerConfig: [String: JSONValue] {
        ["notify-mq": ["allow": ["127.0.0.1/32"], "webhook": ["signing_keys": ["hooks": ["secret": "webhook_secret"]]]]]
    }
    var secrets: [String: String] { ["webhook_secret": secret] }

    var requests: [[String: Any]] { helper.messages }

    /// Whether request `index` verifies with the documented receiver code (webhook_verify.py).
    func verifies(_ index: Int, secret: String? = nil) -> Bool {
        (try? Loopback.run(Loopback.python, [Loopback.helpers + "/webhook_verify.py", secret ?? self.secret,
                                                helper.output, String(index)])) != nil
    }

    func stop() {
        helper.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
