import Foundation
import JALMWire

/// An SMTP server from PyPI's aiosmtpd (Tests/NotifyMQServers/smtp_server.py) on a free loopback port,
/// with STARTTLS under a self-signed certificate made by openssl now, and AUTH required; named `mail` in
/// `layers.notify-mq.smtp`, its certificate trusted through the secret `smtp_ca` (`ca_pem`).
final class SMTPService: TestService {
    let port: Int
    let dir: String
    let user = "mailer"
    let password = "smtp-test-password"
    let certificate: String
    let helper: BackgroundHelper

    /// Whether aiosmtpd and openssl are here; else the tests fail (`MissingTool`; scripts/deps.d/notify-mq.pip, .apt).
    static var available: Bool {
        Loopback.have("/usr/bin/openssl") && (try? Loopback.run(Loopback.python, ["-c", "import aiosmtpd"])) != nil
    }

    init() throws {
        dir = Daemon.makeTempDir()
        port = Loopback.freePort()
        try Loopback.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        certificate = try String(contentsOfFile: dir + "/cert.pem", encoding: .utf8)
        helper = try BackgroundHelper([Loopback.helpers + "/smtp_server.py", String(port), dir + "/cert.pem",
                                       dir + "/key.pem", user, password], output: dir + "/mail.jsonl")
    }

    var vars: [String: JSONValue] { ["smtp_server": "mail"] }
    var layerConfig: [String: JSONValue] {
        ["notify-mq": ["smtp": ["mail": [
            "url": .string("smtp://127.0.0.1:\(port)"), "username": .string(user),
            "password": ["secret": "smtp_password"], "ca_pem": ["secret": "smtp_ca"],
            "from": "JALM Runner <runner@example.test>",
        ]]]]
    }
    var secrets: [String: String] { ["smtp_password": password, "smtp_ca": certificate] }

    /// What arrived, one entry per message.
    var messages: [[String: Any]] { helper.messages }

    /// Message `index` as Python's email package parses it (Tests/NotifyMQServers/parse_email.py).
    func parsed(_ index: Int) throws -> JSONValue {
        try JSONParser.parse(Array(try Loopback.run(Loopback.python, [Loopback.helpers + "/parse_email.py",
                                                                          helper.output, String(index)]).utf8))
    }

    func stop() {
        helper.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
