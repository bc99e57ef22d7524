import JALMWire

/// A real server a test starts on loopback (an HTTP server, PostgreSQL, Redis, SMTP, ...), for the layer
/// tests and for the catalog examples that name it in `needs:`.
protocol TestService: AnyObject {
    /// What examples reach it by, as capsule vars: `{{ vars.http_url }}`, `{{ vars.redis_port }}`, ...
    var vars: [String: JSONValue] { get }
    /// Settings the daemon's layers need to reach it: `layers.<name>` of jalmd.yml, merged per layer.
    var layerConfig: [String: JSONValue] { get }
    /// Secrets the daemon needs for it (written as files into `<data>/secrets`).
    var secrets: [String: String] { get }
    /// Stops the server (by the PID the test started); called once.
    func stop()
}

extension TestService {
    var layerConfig: [String: JSONValue] { [:] }
    var secrets: [String: String] { [:] }
}

/// The servers the catalog examples may name in `needs:`, by name. Each area adds its own entry.
enum TestServices {
    static let factories: [String: @Sendable () throws -> any TestService] = [
        "postgres": { try PostgresService() },
        "redis": { try RedisService() },
        "nats": { try NATSService() },
        "smtp": { try SMTPService() },
        "webhook": { try WebhookService() },
        "http": { try HTTPService() },
    ]

    /// Starts every server in `names`; an unknown name is an error (a card names a server nobody starts).
    static func start(_ names: Set<String>) throws -> [String: any TestService] {
        var started: [String: any TestService] = [:]
        for name in names.sorted() {
            guard let make = factories[name] else {
                for s in started.values { s.stop() }
                throw DaemonError("no test service named \"\(name)\" (Tests/EndToEndTests/Services/TestService.swift)")
            }
            started[name] = try make()
        }
        return started
    }

    /// The jalmd.yml lines for these servers: one `layers:` mapping (JSON is YAML), layer settings merged.
    static func daemonConfig(_ services: [any TestService]) -> String {
        var layers: [String: JSONValue] = [:]
        for service in services {
            for (layer, settings) in service.layerConfig {
                layers[layer] = merge(layers[layer] ?? .object([:]), settings)
            }
        }
        return layers.isEmpty ? "" : "layers: " + JSONWriter.string(.object(layers), sortedKeys: true)
    }

    /// Objects merge key by key; arrays concatenate (allowlists from two servers); otherwise `b` wins.
    static func merge(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch (a, b) {
        case (.object(var x), .object(let y)):
            for (k, v) in y { x[k] = x[k].map { merge($0, v) } ?? v }
            return .object(x)
        case (.array(let x), .array(let y)):
            return .array(x + y)
        default:
            return b
        }
    }
}
