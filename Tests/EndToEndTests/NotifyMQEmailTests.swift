import Foundation
import JALMWire
import Testing

/// email through the real daemon (sandbox enforced) to aiosmtpd on loopback, parsed by Python's email package.
@Suite(.serialized) struct NotifyMQEmailTests {
    static func start(secrets: [String: String] = [:]) throws -> (SMTPService, Daemon)? {
        guard SMTPService.available else {
            MissingTool.report("aiosmtpd or openssl", installedBy: "scripts/deps.d/notify-mq.pip, notify-mq.apt")
            return nil
        }
        let smtp = try SMTPService()
        do {
            return (smtp, try Daemon(config: TestServices.daemonConfig([smtp]),
                                     secrets: smtp.secrets.merging(secrets) { _, b in b }))
        } catch {
            smtp.stop()
            throw error
        }
    }

    static func step(_ input: JSONValue, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        NotifyMQRedisTests.step("email", input, extra)
    }

    static let text = "Grüße aus Köln.\nA line with = and a trailing space \n.starts with a dot\n"
        + String(repeating: "long ", count: 40)
    static let html = "<p>Grüße <b>aus</b> Köln</p>"

    @Test func aMultipartMessageArrivesOverSTARTTLSWithAuthAndParsesCleanly() throws {
        guard let (smtp, daemon) = try Self.start() else { return }
        defer { smtp.stop() }
        let view = try daemon.run(Self.step([
            "server": "mail", "to": ["Zoë Ops <ops@example.test>", "dev@example.test"], "cc": "cc@example.test",
            "bcc": ["hidden@example.test"], "subject": "Bericht für März — 100 % grün ✅", "text": .string(Self.text),
            "html": .string(Self.html),
        ]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(daemon.waitUntil(5) { smtp.messages.count == 1 })
        let m = try smtp.parsed(0)
        #expect(m["tls"] == true && m["auth"] == true, "\(m)")
        #expect(m["subject"] == "Bericht für März — 100 % grün ✅")
        #expect(m["from"] == "JALM Runner <runner@example.test>")
        #expect(m["to"] == ["ops@example.test", "dev@example.test"])
        #expect(m["to_names"]?[0] == "Zoë Ops")
        #expect(m["cc"] == ["cc@example.test"])
        #expect(m["bcc_header"] == false)
        #expect(m["rcpt_tos"] == ["ops@example.test", "dev@example.test", "cc@example.test", "hidden@example.test"])
        #expect(m["mail_from"] == "runner@example.test")
        #expect(m["date_ok"] == true)
        #expect(m["crlf_only"] == true)
        #expect(m["defects"] == [])
        #expect(m["content_type"] == "multipart/alternative")
        #expect(m["parts"]?[0]?["type"] == "text/plain" && m["parts"]?[0]?["encoding"] == "quoted-printable")
        // Python reads the CRLFs of the wire as "\n".
        #expect(m["parts"]?[0]?["content"]?.stringValue == Self.text)
        #expect(m["parts"]?[1]?["type"] == "text/html" && m["parts"]?[1]?["charset"] == "utf-8")
        #expect(m["parts"]?[1]?["content"]?.stringValue == Self.html)
        let key = "\(view["id"]?.stringValue ?? "")/n/1"
        #expect(m["idempotency_key"]?.stringValue == key)
        #expect(m["message_id"] == view["outputs"]?["n"]?["message_id"])
        #expect(m["message_id"]?.stringValue?.hasSuffix("@example.test>") == true)
    }

    /// The server records the message and answers 451 (temporary) once: the step is retried and both
    /// deliveries carry the same Message-ID, which is what a receiver deduplicates on.
    @Test func aRetriedSendCarriesTheSameMessageID() throws {
        guard let (smtp, daemon) = try Self.start() else { return }
        defer { smtp.stop() }
        let view = try daemon.run(Self.step(["server": "mail", "to": "flaky@example.test", "subject": "once", "text": "x"],
                                            ["retry": ["max": 1, "base": "50ms", "jitter": 0]]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 2, "\(view)")
        #expect(smtp.messages.count == 2)
        #expect(try smtp.parsed(0)["message_id"] == smtp.parsed(1)["message_id"])
    }

    @Test func aWrongPasswordIsANonRetryableUpstreamError() throws {
        guard let (smtp, daemon) = try Self.start(secrets: ["smtp_password": "wrong"]) else { return }
        defer { smtp.stop() }
        let view = try daemon.run(Self.step(["server": "mail", "to": "a@example.test", "subject": "x", "text": "x"],
                                            ["retry": ["max": 2, "base": "10ms"]]))
        let error = view["steps"]?[0]?["error"]
        #expect(error?["code"] == "upstream_error", "\(view)")
        #expect(error?["details"]?["reason"] == "login_denied", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(smtp.messages.isEmpty)
    }

    @Test func headerInjectionIsRefusedInEveryHeaderField() throws {
        guard let (smtp, daemon) = try Self.start() else { return }
        defer { smtp.stop() }
        let bad: [JSONValue] = [
            ["server": "mail", "to": "a@example.test", "subject": "Hi\r\nBcc: victim@example.test", "text": "x"],
            ["server": "mail", "to": "a@example.test\nBcc: victim@example.test", "subject": "x", "text": "x"],
            ["server": "mail", "to": "a@example.test", "from": "Evil\r\n <e@example.test>", "subject": "x", "text": "x"],
            ["server": "mail", "to": "a@example.test", "reply_to": "r@example.test\r\nX: y", "subject": "x", "text": "x"],
        ]
        for input in bad {
            let view = try daemon.run(Self.step(input))
            #expect(view["steps"]?[0]?["error"]?["code"] == "invalid_input", "\(view)")
            #expect(view["steps"]?[0]?["error"]?["details"]?["reason"] == "header_injection", "\(view)")
        }
        #expect(smtp.messages.isEmpty)
    }

    @Test func recipientsAreLimitedToOneHundred() throws {
        guard let (smtp, daemon) = try Self.start() else { return }
        defer { smtp.stop() }
        let to: (Int) -> JSONValue = { n in .array((0..<n).map { .string("r\($0)@example.test") }) }
        let ok = try daemon.run(Self.step(["server": "mail", "to": to(60), "bcc": to(40), "subject": "x", "text": "x"]))
        #expect(ok["outputs"]?["n"]?["recipients"] == 100, "\(ok)")
        let over = try daemon.run(Self.step(["server": "mail", "to": to(60), "bcc": to(41), "subject": "x", "text": "x"]))
        #expect(over["steps"]?[0]?["error"]?["code"] == "resource_exhausted", "\(over)")
        #expect(smtp.messages.count == 1)
    }

    @Test func aServerThatIsDownIsARetryableUpstreamError() throws {
        guard let (smtp, daemon) = try Self.start() else { return }
        smtp.stop()
        let view = try daemon.run(Self.step(["server": "mail", "to": "a@example.test", "subject": "x", "text": "x"]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "upstream_error", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["retryable"] == true, "\(view)")
    }
}
