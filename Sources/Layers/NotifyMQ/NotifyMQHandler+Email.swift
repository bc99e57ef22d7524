#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMNet
import JALMWire

extension NotifyMQHandler {
    /// Limits on one email.
    static let maxRecipients = 100
    static let maxBodyBytes = 4 * 1024 * 1024

    /// Sends one message through a named SMTP server (libcurl: STARTTLS per the server's `tls`, AUTH with
    /// its credentials). Its Message-ID is derived from the step's idempotency key, so every attempt of a
    /// step sends the same Message-ID and a receiver can drop the repeats.
    func email(_ raw: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "email", raw, allowed: ["server", "from", "to", "cc", "bcc", "reply_to",
                                                                "subject", "text", "html"])
        let (name, server) = try input.server("server", in: settings.smtp, kind: "smtp")
        guard let fromText = try input.optionalString("from", maxBytes: 998) ?? server.from else {
            throw input.invalid("from", "is required (the server \"\(name)\" has no default from)")
        }
        let from = try Self.mailbox(input, "from", fromText)
        let to = try Self.mailboxes(input, "to"), cc = try Self.mailboxes(input, "cc"), bcc = try Self.mailboxes(input, "bcc")
        let recipients = to + cc + bcc
        if recipients.isEmpty { throw input.invalid("to", "needs at least one recipient (to, cc or bcc)") }
        if recipients.count > Self.maxRecipients {
            throw CallFailure(.resourceExhausted, "notify-mq.email: \(recipients.count) recipients exceed the limit of \(Self.maxRecipients)",
                              details: ["pointer": "/to", "limit": .int(Int64(Self.maxRecipients))])
        }
        let replyTo = try input.optionalString("reply_to", maxBytes: 998).map { (t) throws(CallFailure) in try Self.mailbox(input, "reply_to", t) }
        let subject = try input.headerSafe("subject", try input.string("subject", maxBytes: 4096))
        let text = try input.optionalString("text", maxBytes: Self.maxBodyBytes)
        let html = try input.optionalString("html", maxBytes: Self.maxBodyBytes)
        if text == nil && html == nil { throw input.invalid("text", "or \"html\" is required") }
        let messageID = Self.messageID(key: context.idempotencyKey, domain: server.messageIDDomain ?? from.domain)
        let message = MIMEMessage(
            from: from, to: to, cc: cc, replyTo: replyTo, subject: subject, text: text, html: html,
            date: Self.rfc5322Date(time(nil)), messageID: messageID, idempotencyKey: context.idempotencyKey,
            boundary: "jalm-" + Digest.hex(Digest.sha256(Array(messageID.utf8))).prefix(24))
        let left = max(1, IOBudget.millis(until: context.deadline))
        let request = NetRequest(
            url: server.url, protocols: .mail, body: message.render(), mailFrom: from.address,
            mailRecipients: recipients.map(\.address), mailTLS: server.tls, username: server.username,
            password: server.password, connectTimeout: .milliseconds(min(server.connectTimeoutMs, left)),
            totalTimeout: .milliseconds(left), maxResponseBytes: 65_536, maxRedirects: 0)
        // The server is the operator's choice, so its host is the allowlist; the guard still judges the
        // address actually connected (a name in the settings that resolves elsewhere is not followed).
        let policy = (try? AddressPolicy(allow: [server.host])) ?? AddressPolicy()
        var caBundles: [String: [UInt8]] = [:]
        if let ca = server.caBundle { caBundles[server.host.lowercased()] = ca }
        let response = try await NetClient(policy: policy, caBundles: caBundles).perform(request)
        return ["message_id": .string(messageID), "recipients": .int(Int64(recipients.count)),
                "status": .int(Int64(response.status))]
    }

    static func mailbox(_ input: OpInput, _ key: String, _ text: String) throws(CallFailure) -> MailAddress {
        switch MailAddress.parse(text) {
        case .success(let a): return a
        case .failure(.injection):
            throw input.invalid(key, "contains CR, LF or NUL, which could inject a header or SMTP command",
                                reason: "header_injection")
        case .failure(.malformed):
            throw input.invalid(key, "\"\(text)\" is not an address (addr@example.com or Name <addr@example.com>)")
        }
    }

    /// A string or a list of strings, each a mailbox.
    static func mailboxes(_ input: OpInput, _ key: String) throws(CallFailure) -> [MailAddress] {
        guard let value = input.value(key) else { return [] }
        let items: [JSONValue] = value.arrayValue ?? [value]
        var out: [MailAddress] = []
        for item in items {
            guard let s = item.stringValue else { throw input.invalid(key, "must be an address or a list of addresses") }
            out.append(try mailbox(input, key, s))
        }
        return out
    }

    /// `<jalm.HEX@domain>`: HEX is SHA-256 of the idempotency key (its first 32 hex digits), so every
    /// attempt of one step sends the same Message-ID; without a key, a random one.
    static func messageID(key: String?, domain: String) -> String {
        let seed = key.map { Array($0.utf8) } ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
        let safeDomain = domain.isEmpty || domain.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ">") }
            ? "jalm.invalid" : domain
        return "<jalm.\(Digest.hex(Digest.sha256(seed)).prefix(32))@\(safeDomain)>"
    }

    /// `Tue, 24 Nov 2026 16:52:00 +0000` (RFC 5322 §3.3), in UTC.
    static func rfc5322Date(_ t: time_t) -> String {
        var seconds = t
        var tm = Glibc.tm()
        gmtime_r(&seconds, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) +0000"
    }
}
