/// A nats-server named in `layers.notify-mq.nats.NAME`.
struct NATSServer: Sendable, Equatable {
    var endpoint: ServerEndpoint
    var user: String?
    var password: String?
    /// A token for servers configured with `authorization { token: ... }`.
    var token: String?

    static let defaultPort = 4222

    static func read(_ r: SettingsReader) throws(SettingsError) -> NATSServer {
        try r.only(ServerEndpoint.keys.union(["user", "password", "token"]))
        return NATSServer(endpoint: try .read(r, defaultPort: defaultPort), user: try r.string("user"),
                   password: try r.string("password"), token: try r.string("token"))
    }
}
