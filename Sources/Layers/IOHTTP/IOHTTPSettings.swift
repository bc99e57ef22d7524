import JALMLayerKit
import JALMNet
import JALMWire

/// `layers.io-http` of jalmd.yml (docs/layers.md, "io-http"): the guard's allowlist, CA bundles per host,
/// the ceilings of the per-step limits, and the defaults of llm.chat.
struct IOHTTPSettings: Sendable {
    var policy: AddressPolicy
    /// PEM text by host (lower-case).
    var caBundles: [String: [UInt8]]
    /// The largest `max_response_bytes` a step may ask for; also capped so a base64 body fits one frame.
    var maxResponseBytesLimit: Int
    var maxRedirectsLimit = 20
    var maxTimeoutMs = 300_000
    var llm: LLMDefaults

    struct LLMDefaults: Sendable {
        var baseURL: String?
        var apiKey: String?
        var model: String?
    }

    static let defaultMaxResponseBytes = 4 * 1024 * 1024

    init(setup: LayerSetup) throws(SettingsError) {
        try self.init(config: setup.config, maxFrameSize: setup.maxFrameSize)
    }

    init(config: JSONValue, maxFrameSize: Int) throws(SettingsError) {
        let o = config.objectValue ?? [:]
        let known: Set = ["allow", "ca_bundles", "max_response_bytes", "llm"]
        if let unknown = o.keys.filter({ !known.contains($0) }).sorted().first {
            throw SettingsError("unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        var entries: [String] = []
        for entry in o["allow"]?.arrayValue ?? [] {
            guard let s = entry.stringValue else { throw SettingsError("allow: every entry must be a string") }
            entries.append(s)
        }
        do { policy = try AddressPolicy(allow: entries) } catch { throw SettingsError("allow: \(error)") }
        var bundles: [String: [UInt8]] = [:]
        for (host, pem) in o["ca_bundles"]?.objectValue ?? [:] {
            guard let text = pem.stringValue, text.contains("-----BEGIN CERTIFICATE-----") else {
                throw SettingsError("ca_bundles.\(host): must be PEM text (-----BEGIN CERTIFICATE-----...)")
            }
            bundles[host.lowercased()] = Array(text.utf8)
        }
        caBundles = bundles
        // base64 grows a body by 4/3; keep 64 KiB for the rest of the output frame.
        let frameCap = max(1024, (maxFrameSize - 64 * 1024) / 4 * 3)
        let asked = o["max_response_bytes"]?.intValue.map { Int($0) } ?? 64 * 1024 * 1024
        guard asked > 0 else { throw SettingsError("max_response_bytes: must be a positive integer") }
        maxResponseBytesLimit = min(asked, frameCap)
        let l = o["llm"]?.objectValue ?? [:]
        llm = LLMDefaults(baseURL: l["base_url"]?.stringValue, apiKey: l["api_key"]?.stringValue,
                          model: l["model"]?.stringValue)
    }
}

/// A setting of `layers.io-http` is wrong; the plugin does not start and says which one.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = "layers.io-http.\(d)" }
}
