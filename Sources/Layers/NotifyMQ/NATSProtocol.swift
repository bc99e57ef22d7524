import JALMWire

/// The NATS client protocol, the parts a publisher needs (docs.nats.io, "Client Protocol"). Pure.
enum NATSProtocol {
    /// The header JetStream deduplicates on, within the stream's duplicate window.
    static let messageIDHeader = "Nats-Msg-Id"

    /// Why `subject` cannot be published to, or nil. A subject is dot-separated non-empty tokens with no
    /// whitespace (which would split the protocol line) and no wildcard (`*`, `>`: subscribe-only).
    static func subjectProblem(_ subject: String) -> String? {
        if subject.isEmpty { return "must not be empty" }
        if subject.utf8.count > 4096 { return "is longer than 4096 bytes" }
        if subject.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return "must not contain spaces or control characters"
        }
        for token in subject.split(separator: ".", omittingEmptySubsequences: false) {
            if token.isEmpty { return "must not have an empty token (\"..\", or a leading or trailing dot)" }
            if token == "*" || token == ">" { return "must not contain wildcards (\"*\", \">\")" }
        }
        return nil
    }

    /// `CONNECT {...}`: no echo of +OK, headers on, `no_responders` so a JetStream publish to a subject no
    /// stream listens on fails at once with a 503 status instead of waiting for the deadline.
    static func connect(_ server: NATSServer, name: String) -> [UInt8] {
        var options: [String: JSONValue] = [
            "verbose": false, "pedantic": false, "headers": true, "no_responders": true,
            "lang": "swift", "version": .string(jalmVersion), "protocol": 1, "name": .string("jalm-notify-mq"),
        ]
        if let user = server.user { options["user"] = .string(user) }
        if let password = server.password { options["pass"] = .string(password) }
        if let token = server.token { options["auth_token"] = .string(token) }
        return Array("CONNECT \(JSONWriter.string(.object(options), sortedKeys: true))\r\n".utf8)
    }

    /// The header block of a message: `NATS/1.0`, each header on its line, a blank line.
    static func headerBlock(_ headers: [(String, String)]) -> [UInt8] {
        var text = "NATS/1.0\r\n"
        for (k, v) in headers { text += "\(k): \(v)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// `HPUB <subject> [reply-to] <header bytes> <total bytes>` with its headers and payload.
    static func hpub(subject: String, replyTo: String?, headers: [(String, String)], payload: [UInt8]) -> [UInt8] {
        let block = headerBlock(headers)
        let reply = replyTo.map { " " + $0 } ?? ""
        var out = Array("HPUB \(subject)\(reply) \(block.count) \(block.count + payload.count)\r\n".utf8)
        out += block
        out += payload
        out += [0x0D, 0x0A]
        return out
    }

    /// A server line the publisher cares about.
    enum ServerLine: Equatable {
        case info(String)
        case ping, pong, ok
        case error(String)
        /// `MSG subject sid [reply] size` or `HMSG subject sid [reply] hdrsize totalsize`.
        case message(subject: String, headerBytes: Int, totalBytes: Int)
        case unknown(String)
    }

    static func parse(_ line: [UInt8]) -> ServerLine {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = parts.first?.uppercased() else { return .unknown(text) }
        switch verb {
        case "INFO": return .info(String(text.dropFirst(4)).trimmingSpaces)
        case "PING": return .ping
        case "PONG": return .pong
        case "+OK": return .ok
        case "-ERR": return .error(String(text.dropFirst(4)).trimmingSpaces.trimmingQuotes)
        case "MSG" where parts.count == 4 || parts.count == 5:
            guard let n = Int(parts.last!) else { return .unknown(text) }
            return .message(subject: String(parts[1]), headerBytes: 0, totalBytes: n)
        case "HMSG" where parts.count == 5 || parts.count == 6:
            guard let h = Int(parts[parts.count - 2]), let n = Int(parts.last!), h <= n else { return .unknown(text) }
            return .message(subject: String(parts[1]), headerBytes: h, totalBytes: n)
        default: return .unknown(text)
        }
    }

    /// The status code of a header block (`NATS/1.0 503` → 503), or nil when it has none.
    static func status(ofHeaderBlock block: [UInt8]) -> Int? {
        let first = String(decoding: block.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = first.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    var trimmingQuotes: String {
        count >= 2 && hasPrefix("'") && hasSuffix("'") ? String(dropFirst().dropLast()) : self
    }
}
