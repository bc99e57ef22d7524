import ArgumentParser
import JALMWire

/// `jalm layer swap LAYER --binary PATH | --manifest PATH [--timeout S]`.
struct SwapLayer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Replace a layer's plugin while steps keep flowing.",
        discussion: """
            The new generation is started through the launcher, must greet with every op the catalog routes \
            to the layer, pass the confinement audit and answer a probe call; only then do new calls go to it. \
            The old generation finishes its calls in flight (up to --timeout) and exits. If the new one fails \
            anywhere, the old one keeps serving and the swap fails with the reason (exit 1).

            Examples:
              jalm layer swap io-http --binary /opt/jalm/0.2.0/jalm-layer-io-http
              jalm layer swap render-html --manifest /etc/jalm/plugins/render-html-py/plugin.yml --timeout 60
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The layer, e.g. io-http.", valueName: "layer"))
    var layer: String

    @Option(help: "The new plugin executable (absolute path); the rest of the manifest stays.")
    var binary: String?

    @Option(help: "A whole new plugin.yml for the layer.")
    var manifest: String?

    @Option(help: "Seconds the old generation has to finish its calls in flight (default 30).")
    var timeout: Double = 30

    func validate() throws {
        guard (binary == nil) != (manifest == nil) else { throw ValidationError("give exactly one of --binary and --manifest") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be from 0 to 3600 seconds") }
    }

    func run() throws {
        var body: [String: JSONValue] = ["timeout": .double(timeout)]
        if let binary { body["binary"] = .string(binary) }
        if let manifest { body["manifest"] = .string(manifest) }
        let record = try global.api(extraTimeout: timeout).post(
            "/layers/\(escape(layer))/swap", body: JSONWriter.bytes(.object(body)), contentType: "application/json")
        if global.json { return global.printJSON(record) }
        print(SwapLayer.render(record))
    }

    static func render(_ r: JSONValue) -> String {
        "swapped: \(r["from"]?.stringValue ?? "?") → \(r["to"]?.stringValue ?? "?"), "
            + "\(r["drained_calls"]?.intValue ?? 0) calls drained, \(Int(r["duration_ms"]?.doubleValue ?? 0)) ms"
    }
}

/// `jalm layer rollback LAYER`.
struct RollbackLayer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Swap a layer back to the plugin it ran before its last swap.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The layer.", valueName: "layer"))
    var layer: String

    @Option(help: "Seconds the current generation has to finish its calls in flight (default 30).")
    var timeout: Double = 30

    func run() throws {
        let record = try global.api(extraTimeout: timeout).post(
            "/layers/\(escape(layer))/rollback", body: JSONWriter.bytes(["timeout": .double(timeout)]),
            contentType: "application/json")
        if global.json { return global.printJSON(record) }
        print(SwapLayer.render(record))
    }
}
