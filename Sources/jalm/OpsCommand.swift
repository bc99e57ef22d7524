import ArgumentParser
import JALMWire

/// `jalm ops [LAYER]`: what the layers can do.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Show the op catalog: every layer.op with its side effect and summary.",
        discussion: """
            With a LAYER, each of its ops is shown with its input fields (name, type, required, \
            description) from the op's JSON Schema. LAYER.OP shows one op.

            Side effects: none (pure), read, write (local state), external (leaves the machine).

            Examples:
              jalm ops
              jalm ops io-file
              jalm ops io-http.request
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A layer (io-http) or one op (io-http.request).", valueName: "layer"))
    var layer: String?

    func run() throws {
        let catalog = try global.api().get("/catalog")
        let ops = catalog["ops"]?.arrayValue ?? []
        let selected = try select(ops, layers: catalog["layers"]?.arrayValue ?? [])
        if global.json {
            return global.printJSON(layer == nil ? catalog : .object(["ops": .array(selected)]))
        }
        guard layer != nil else { return print(Self.table(selected)) }
        print(selected.map(Self.detail).joined(separator: "\n\n"))
    }

    /// All ops, a layer's ops, or the one op named `layer.op`; not_found when nothing matches.
    private func select(_ ops: [JSONValue], layers: [JSONValue]) throws(CLIFailure) -> [JSONValue] {
        guard let layer else { return ops }
        let byLayer = ops.filter { $0["layer"]?.stringValue == layer }
        if !byLayer.isEmpty { return byLayer }
        let byName = ops.filter { Self.name($0) == layer }
        if !byName.isEmpty { return byName }
        var names = layers.compactMap { $0["name"]?.stringValue }
        if names.isEmpty { names = Array(Set(ops.compactMap { $0["layer"]?.stringValue })).sorted() }
        throw .problem(code: "not_found", detail: "no layer or op named \"\(layer)\" in the catalog "
            + "(layers: \(names.joined(separator: ", ")))", pointer: nil)
    }

    static func name(_ op: JSONValue) -> String {
        "\(op["layer"]?.stringValue ?? "?").\(op["op"]?.stringValue ?? "?")"
    }

    static func table(_ ops: [JSONValue]) -> String {
        let rows = ops.sorted { name($0) < name($1) }.map { op in
            [name(op), op["side_effect"]?.stringValue ?? "-", op["summary"]?.stringValue ?? ""]
        }
        return Format.table(["OP", "SIDE EFFECT", "SUMMARY"], rows).split(separator: "\n")
            .map { Format.truncate(String($0), to: Format.terminalWidth) }.joined(separator: "\n")
    }

    /// The op's name and facts, its summary, then its input fields as a table.
    static func detail(_ op: JSONValue) -> String {
        var facts = [op["side_effect"]?.stringValue ?? "-"]
        if let io = op["io_type"]?.stringValue { facts.append(io) }
        if let timeout = op["timeout_ms"]?.intValue { facts.append("timeout \(Format.duration(ms: timeout))") }
        var lines = ["\(name(op))  (\(facts.joined(separator: ", ")))"]
        if let summary = op["summary"]?.stringValue, !summary.isEmpty { lines.append("  " + summary) }
        let fields = op["input"].map(SchemaField.fields) ?? []
        if fields.isEmpty {
            lines.append("  input: none")
        } else {
            let rows = fields.map { ["  " + $0.name, $0.type, $0.required ? "yes" : "", $0.description] }
            lines += Format.table(["  FIELD", "TYPE", "REQUIRED", "DESCRIPTION"], rows).split(separator: "\n")
                .map { Format.truncate(String($0), to: Format.terminalWidth) }
        }
        return lines.joined(separator: "\n")
    }
}
