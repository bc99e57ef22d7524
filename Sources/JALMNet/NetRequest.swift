/// One header line, in the order given (HTTP allows repeats, so this is not a dictionary).
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The protocol family a transfer may use; libcurl refuses any other scheme, on the first URL and on
/// every redirect (CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR).
public enum NetProtocols: String, Sendable {
    case http = "http,https"
    case mail = "smtp,smtps"
}

/// Whether an SMTP transfer upgrades with STARTTLS.
public enum MailTLS: Sendable {
    /// STARTTLS when the server offers it, plain otherwise (CURLUSESSL_TRY).
    case whenOffered
    /// STARTTLS or fail (CURLUSESSL_ALL); `smtps://` is TLS from the first byte either way.
    case required
}

/// What to transfer: general enough for HTTP(S) and SMTP(S). Every limit has a value; none is unbounded.
public struct NetRequest: Sendable {
    public var url: String
    public var protocols: NetProtocols
    /// HTTP method (`GET`, `POST`, ...); ignored for SMTP.
    public var method: String
    public var headers: [HeaderField]
    /// The request body (HTTP) or the message to upload (SMTP: the full RFC 5322 message).
    public var body: [UInt8]?
    /// SMTP envelope: `MAIL FROM` and `RCPT TO` addresses (bare, without angle brackets).
    public var mailFrom: String?
    public var mailRecipients: [String]
    public var mailTLS: MailTLS
    /// Login for SMTP AUTH (or HTTP basic when set for HTTP).
    public var username: String?
    public var password: String?
    /// Time allowed to establish each connection (TCP and TLS).
    public var connectTimeout: Duration
    /// Time allowed for the whole transfer, every redirect hop included.
    public var totalTimeout: Duration
    /// The largest response body accepted (after content decoding); more is cut with resource_exhausted.
    public var maxResponseBytes: Int
    /// Redirects followed (each hop re-checked by the guard); 0 returns the 3xx response as it is.
    public var maxRedirects: Int
    /// Ask for compressed bodies and decode them transparently (`Accept-Encoding`).
    public var decodeContent: Bool

    public init(url: String, protocols: NetProtocols = .http, method: String = "GET", headers: [HeaderField] = [],
                body: [UInt8]? = nil, mailFrom: String? = nil, mailRecipients: [String] = [],
                mailTLS: MailTLS = .whenOffered, username: String? = nil, password: String? = nil,
                connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(30),
                maxResponseBytes: Int = 10 * 1024 * 1024, maxRedirects: Int = 5, decodeContent: Bool = true) {
        self.url = url
        self.protocols = protocols
        self.method = method
        self.headers = headers
        self.body = body
        self.mailFrom = mailFrom
        self.mailRecipients = mailRecipients
        self.mailTLS = mailTLS
        self.username = username
        self.password = password
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxRedirects = maxRedirects
        self.decodeContent = decodeContent
    }
}

/// Time spent in each phase, in milliseconds, summed over every hop of the transfer.
public struct NetTiming: Sendable, Equatable {
    public var dnsMs: Double = 0
    public var connectMs: Double = 0
    public var tlsMs: Double = 0
    /// From the request being sent (connection ready) to the first response byte.
    public var firstByteMs: Double = 0
    public var totalMs: Double = 0
    public init() {}
}

/// What came back from the last hop.
public struct NetResponse: Sendable {
    /// HTTP status, or the last SMTP reply code.
    public var status: Int
    public var headers: [HeaderField]
    public var body: [UInt8]
    /// The URL of the last hop.
    public var url: String
    /// The URLs redirected to, in order.
    public var redirects: [String]
    /// The address actually connected for the last hop.
    public var remoteAddress: String?
    public var timing: NetTiming

    /// The first header with this name, case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}
