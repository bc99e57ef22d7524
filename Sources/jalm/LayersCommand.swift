import ArgumentParser
import JALMWire

/// `jalm layers`: the six layer plugins and their processes.
struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Show the layers: state, version, processes, restarts, last error; swap or roll back a plugin.",
        discussion: """
            A layer that crashes too often is quarantined: its steps fail with layer_unavailable \
            until `jalm layers restart NAME` lifts the quarantine.

            Examples:
              jalm layers
              jalm layers restart io-http
              jalm layer swap io-http --binary /opt/jalm/new/jalm-layer-io-http
              jalm layer rollback io-http
            """,
        subcommands: [ListLayers.self, RestartLayer.self, SwapLayer.self, RollbackLayer.self],
        defaultSubcommand: ListLayers.self,
        aliases: ["layer"])

    /// One row per layer; shared by `list` and `restart`.
    static func table(_ layers: [JSONValue]) -> String {
        let rows = layers.map { layer -> [String] in
            let processes = layer["processes"]?.arrayValue ?? []
            let pids = processes.compactMap { $0["pid"]?.intValue.map(String.init) }.joined(separator: ",")
            let inflight = processes.compactMap { $0["inflight"]?.intValue }.reduce(0, +)
            let problem = [layer["quarantine_reason"], layer["last_error"]]
                .compactMap { $0 }.first { !$0.isNull }.map { ExecutionView.describe(error: $0) } ?? ""
            return [
                layer["name"]?.stringValue ?? "?", layer["state"]?.stringValue ?? "?",
                layer["version"]?.stringValue ?? "-", pids.isEmpty ? "-" : pids, String(inflight),
                layer["restarts"]?.intValue.map(String.init) ?? "0",
                layer["violations"]?.intValue.map(String.init) ?? "0", layer["oom_kills"]?.intValue.map(String.init) ?? "0",
                layer["sandbox"]?.stringValue ?? "-", problem,
            ]
        }
        let text = Format.table(["NAME", "STATE", "VERSION", "PIDS", "IN-FLIGHT", "RESTARTS", "VIOLATIONS", "OOM",
                                 "SANDBOX", "LAST ERROR"], rows)
        return text.split(separator: "\n").map { Format.truncate(String($0), to: Format.terminalWidth) }
            .joined(separator: "\n")
    }
}

/// `jalm layers list` (the default): the table.
struct ListLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Table of layers: state, version, pids, in-flight calls, restarts, sandbox violations, OOM kills, last error.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let answer = try global.api().get("/layers")
        if global.json { return global.printJSON(answer) }
        print(LayersCommand.table(answer["layers"]?.arrayValue ?? []))
    }
}

/// `jalm layers restart NAME`.
struct RestartLayer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart a layer, lifting its quarantine.",
        discussion: """
            A quarantined or stopped layer is started again with a clean restart history. A running
            layer's processes are killed and respawned: their calls in flight fail with
            layer_unavailable, and steps whose side effect allows it are retried.

            Example:
              jalm layers restart compute-script
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The layer, e.g. io-http (see `jalm layers`).", valueName: "name"))
    var name: String

    func run() throws {
        let layer = try global.api().post("/layers/\(escape(name))/restart")
        if global.json { return global.printJSON(layer) }
        print(LayersCommand.table([layer]))
    }
}
