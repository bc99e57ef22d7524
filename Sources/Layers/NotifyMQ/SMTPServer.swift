import JALMNet

/// An SMTP server named in `layers.notify-mq.smtp.NAME`.
struct SMTPServer: Sendable {
    /// `smtp://host:port` (STARTTLS per `tls`) or `smtps://host:port` (TLS from the first byte).
    var url: String
    var host: String
    /// `try`: STARTTLS when the server offers it (CURLUSESSL_TRY); `required`: STARTTLS or fail.
    var tls: MailTLS
    var username: String?
    var password: String?
    /// The `From` used when a step gives none ("Name <addr>" or "addr").
    var from: String?
    /// The right-hand side of Message-IDs; defaults to the domain of the sender.
    var messageIDDomain: String?
    var connectTimeoutMs: Int
    /// PEM bundle the server's certificate is verified against (a private CA): `ca_pem` (the PEM text,
    /// e.g. `{secret: smtp_ca}`) or `ca_file` (a path, read at start: the sandbox must allow it).
    var caBundle: [UInt8]?

    static func read(_ r: SettingsReader) throws(SettingsError) -> SMTPServer {
        try r.only(["url", "tls", "username", "password", "from", "message_id_domain", "ca_pem", "ca_file", "connect_timeout_ms"])
        let url = try r.requiredString("url")
        let lower = url.lowercased()
        guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://") else {
            throw SettingsError(path: r.child("url"), problem: "must start with smtp:// or smtps://")
        }
        let authority = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
        let host = authority.hasPrefix("[") ? String(authority.dropFirst().prefix { $0 != "]" })
                                            : String(authority.prefix { $0 != ":" })
        let tls: MailTLS
        switch try r.string("tls") ?? "try" {
        case "try": tls = .whenOffered
        case "required": tls = .required
        default: throw SettingsError(path: r.child("tls"), problem: "must be \"try\" or \"required\"")
        }
        var caBundle = try r.text("ca_pem").map { Array($0.utf8) }
        if let path = try r.string("ca_file") {
            guard let bytes = readWholeFile(path) else {
                throw SettingsError(path: r.child("ca_file"), problem: "cannot read \(path)")
            }
            caBundle = bytes
        }
        return SMTPServer(
            url: url, host: host, tls: tls, username: try r.string("username"), password: try r.string("password"),
            from: try r.string("from"), messageIDDomain: try r.string("message_id_domain"),
            connectTimeoutMs: try r.int("connect_timeout_ms", default: 10_000, in: 1...600_000), caBundle: caBundle)
    }
}
