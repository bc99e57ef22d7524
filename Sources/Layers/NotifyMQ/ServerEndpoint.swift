/// Where a named server listens and how long a connection to it may take to open.
///
/// Servers are named in the layer settings, never given by a capsule: a capsule says `server: main`, and
/// only the operator decides which address that is. That is why the Redis, NATS and SMTP ops need no
/// SSRF guard (docs/layers.md, notify-mq).
struct ServerEndpoint: Sendable, Equatable {
    var host: String
    var port: Int
    /// Milliseconds to open the TCP connection (and finish its handshake) before `timeout`.
    var connectTimeoutMs: Int

    static let defaultConnectTimeoutMs = 5_000

    /// The keys `read` takes, for the servers' own lists of known keys.
    static let keys: Set<String> = ["host", "port", "connect_timeout_ms"]

    static func read(_ r: SettingsReader, defaultPort: Int) throws(SettingsError) -> ServerEndpoint {
        ServerEndpoint(
            host: try r.string("host") ?? "127.0.0.1",
            port: try r.int("port", default: defaultPort, in: 1...65535),
            connectTimeoutMs: try r.int("connect_timeout_ms", default: defaultConnectTimeoutMs, in: 1...600_000))
    }

    var display: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
