import JALMWire
import Testing
@testable import jalm_layer_notify_mq

/// The pure parts of an email: quoted-printable, encoded-words, addresses, the rendered message.
struct MIMETests {
    /// Decodes quoted-printable the way RFC 2045 says, to check the encoder by round trip.
    static func decodeQP(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "=") {
                if i + 2 < b.count && b[i + 1] == 0x0D && b[i + 2] == 0x0A { i += 3; continue }
                out.append(UInt8(String(decoding: b[i + 1...i + 2], as: UTF8.self), radix: 16)!)
                i += 3
            } else {
                out.append(b[i]); i += 1
            }
        }
        return out
    }

    @Test(arguments: ["plain", "Grüße = 100 %", "trailing space ", ".dot first", String(repeating: "x", count: 200),
                      String(repeating: "ü", count: 50), "a\r\nb\nc\rd", ""])
    func quotedPrintableRoundTripsWithShortLinesAndCRLF(_ text: String) {
        let encoded = QuotedPrintable.encode(text)
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
        for line in encoded.split(separator: "\r\n", omittingEmptySubsequences: false) {
            #expect(line.utf8.count <= 76, "\(line)")
            #expect(!line.hasPrefix("."), "a line starting with a dot: \(line)")
            #expect(!line.hasSuffix(" "), "trailing whitespace would be stripped in transit: \(line)")
        }
        #expect(!encoded.replacingOccurrences("\r\n").contains("\n") && !encoded.replacingOccurrences("\r\n").contains("\r"))
        let normalized = text.replacingLineBreaks().joined(separator: "\r\n")
        #expect(Self.decodeQP(encoded) == Array(normalized.utf8))
    }

    @Test func asciiSubjectsStayAsTheyAreAndOthersBecomeEncodedWords() throws {
        #expect(MIMEHeader.unstructured("Nightly report") == "Nightly report")
        let long = String(repeating: "Grüße ", count: 20)
        let encoded = MIMEHeader.unstructured(long)
        let words = encoded.split(separator: "\r\n ").map(String.init)
        #expect(words.count > 1)
        var decoded: [UInt8] = []
        for w in words {
            #expect(w.hasPrefix("=?UTF-8?B?") && w.hasSuffix("?=") && w.utf8.count <= 75, "\(w)")
            let payload = w.dropFirst(10).dropLast(2)
            decoded += try #require(Base64.decode(String(payload)))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == long)
    }

    @Test func addressesParseAndRefuseInjection() throws {
        #expect(try MailAddress.parse("a@b.test").get() == MailAddress(name: nil, address: "a@b.test"))
        #expect(try MailAddress.parse("\"Zoë, Ops\" <z@b.test>").get() == MailAddress(name: "Zoë, Ops", address: "z@b.test"))
        guard case .failure(.injection) = MailAddress.parse("a@b.test\r\nBcc: c@d.test") else { Issue.record("accepted"); return }
        guard case .failure(.malformed) = MailAddress.parse("a b@c.test") else { Issue.record("accepted"); return }
        guard case .failure(.malformed) = MailAddress.parse("<a@b.test>,c@d.test") else { Issue.record("accepted"); return }
        #expect(MailAddress(name: "Zoë, Ops", address: "z@b.test").headerValue.hasPrefix("=?UTF-8?B?"))
        #expect(MailAddress(name: "Ops, Team", address: "o@b.test").headerValue == "\"Ops, Team\" <o@b.test>")
    }

    @Test func theMessageHasNoBccHeaderAndEndsEveryLineWithCRLF() {
        let m = MIMEMessage(from: MailAddress(name: nil, address: "f@x.test"), to: [MailAddress(name: nil, address: "t@x.test")],
                            cc: [], replyTo: nil, subject: "s", text: "t", html: "<p>h</p>", date: "Tue, 24 Nov 2026 16:52:00 +0000",
                            messageID: "<jalm.1@x.test>", idempotencyKey: "e/s/1", boundary: "b1")
        let text = String(decoding: m.render(), as: UTF8.self)
        #expect(!text.contains("Bcc"))
        #expect(!text.replacingOccurrences("\r\n").contains("\n"))
        #expect(text.contains("Content-Type: multipart/alternative; boundary=\"b1\"\r\n"))
        #expect(text.hasSuffix("--b1--\r\n"))
    }

    @Test func theMessageIDIsTheSameForTheSameKey() {
        let a = NotifyMQHandler.messageID(key: "ex_1/s/1", domain: "x.test")
        #expect(a == NotifyMQHandler.messageID(key: "ex_1/s/1", domain: "x.test"))
        #expect(a != NotifyMQHandler.messageID(key: "ex_2/s/1", domain: "x.test"))
        #expect(a.hasPrefix("<jalm.") && a.hasSuffix("@x.test>"))
    }
}

extension String {
    func replacingOccurrences(_ target: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined()
    }
}
