import JALMNet

/// `layers.notify-mq.webhook` and `layers.notify-mq.allow`: signing keys by name, limits, and the SSRF
/// allowlist for webhook URLs (which, unlike the other ops' servers, come from the capsule).
struct WebhookSettings: Sendable {
    /// Signing secrets by the name a step gives in `signing_key`; values come from the secret store.
    var signingKeys: [String: [UInt8]] = [:]
    var connectTimeoutMs = 5_000
    /// The largest response body kept (and returned in the output).
    var maxResponseBytes = 65_536
    var policy = AddressPolicy()

    static func read(_ r: SettingsReader, allow: [String]) throws(SettingsError) -> WebhookSettings {
        try r.only(["signing_keys", "connect_timeout_ms", "max_response_bytes"])
        var s = WebhookSettings()
        let keys = try SettingsReader(r.object["signing_keys"], path: r.child("signing_keys"))
        for name in keys.object.keys {
            guard let secret = try keys.string(name), !secret.isEmpty else {
                throw SettingsError(path: keys.child(name), problem: "must be a non-empty string ({secret: NAME})")
            }
            s.signingKeys[name] = Array(secret.utf8)
        }
        s.connectTimeoutMs = try r.int("connect_timeout_ms", default: 5_000, in: 1...600_000)
        s.maxResponseBytes = try r.int("max_response_bytes", default: 65_536, in: 0...16 * 1024 * 1024)
        do {
            s.policy = try AddressPolicy(allow: allow)
        } catch {
            throw SettingsError(path: "allow", problem: error.description)
        }
        return s
    }
}
