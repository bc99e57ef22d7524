/// A Redis server named in `layers.notify-mq.redis.NAME`.
struct RedisServer: Sendable, Equatable {
    var endpoint: ServerEndpoint
    /// ACL user for `AUTH user password` (Redis 6+); nil means `AUTH password` (the `default` user).
    var username: String?
    var password: String?
    /// The logical database, `SELECT`ed after connecting.
    var db: Int
    /// How long the dedupe marker of an idempotency key lives, in seconds: a retry within this window
    /// does not add or publish again.
    var dedupeTTLSeconds: Int
    /// Prefix of the dedupe marker keys.
    var keyPrefix: String

    static let defaultPort = 6379
    static let defaultDedupeTTLSeconds = 86_400

    static func read(_ r: SettingsReader) throws(SettingsError) -> RedisServer {
        try r.only(ServerEndpoint.keys.union(["username", "password", "db", "dedupe_ttl_s", "key_prefix"]))
        return RedisServer(
            endpoint: try .read(r, defaultPort: defaultPort),
            username: try r.string("username"),
            password: try r.string("password"),
            db: try r.int("db", default: 0, in: 0...1_000_000),
            dedupeTTLSeconds: try r.int("dedupe_ttl_s", default: defaultDedupeTTLSeconds, in: 1...31_536_000),
            keyPrefix: try r.string("key_prefix") ?? "jalm:idempotency:")
    }
}
