import JALMLayerKit
import JALMWire

/// `layers.notify-mq` of jalmd.yml: the named servers capsules may send to (docs/layers.md, notify-mq).
struct NotifySettings: Sendable {
    var redis: [String: RedisServer] = [:]
    var nats: [String: NATSServer] = [:]
    var smtp: [String: SMTPServer] = [:]
    var webhook = WebhookSettings()
    /// Threads doing blocking socket I/O at once (Redis, NATS); further calls wait.
    var ioThreads = 16

    static func read(_ config: JSONValue) throws(SettingsError) -> NotifySettings {
        let r = try SettingsReader(config, path: "")
        try r.only(["redis", "nats", "smtp", "webhook", "allow", "io_threads"])
        var s = NotifySettings()
        s.redis = try r.table("redis") { _, server throws(SettingsError) in try RedisServer.read(server) }
        s.nats = try r.table("nats") { _, server throws(SettingsError) in try NATSServer.read(server) }
        s.smtp = try r.table("smtp") { _, server throws(SettingsError) in try SMTPServer.read(server) }
        s.webhook = try WebhookSettings.read(SettingsReader(r.object["webhook"], path: "webhook"), allow: try r.stringList("allow"))
        s.ioThreads = try r.int("io_threads", default: 16, in: 1...48)
        return s
    }
}

extension OpInput {
    /// The server named by `key` in `table`, or `not_found` naming the ones configured.
    func server<T>(_ key: String, in table: [String: T], kind: String) throws(CallFailure) -> (String, T) {
        let name = try string(key, maxBytes: 256)
        guard let server = table[name] else {
            let known = table.keys.sorted()
            throw CallFailure(
                .notFound,
                "notify-mq.\(op): no \(kind) server named \"\(name)\" in layers.notify-mq.\(kind) "
                    + (known.isEmpty ? "(none is configured)" : "(configured: \(known.joined(separator: ", ")))"),
                details: ["pointer": .string("/" + key)])
        }
        return (name, server)
    }
}
