import ArgumentParser
import JALMWire

/// `jalm sandbox check LAYER`: the confinement a layer's processes get.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Show how layers are confined.",
        subcommands: [SandboxCheck.self])
}

struct SandboxCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print a layer's effective sandbox policy: syscalls, network, paths, namespaces, limits.",
        discussion: """
            Shows what jalmd applies to every process of the layer: the mode (enforce, degraded, off), the \
            seccomp default action and allowlist, the network policy, the Landlock paths, the namespaces, \
            the rlimits and cgroup limits, the exact jalm-launch command line, and what the running \
            processes' audit saw.

            Example:
              jalm sandbox check io-file
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The layer, e.g. io-file (see `jalm layers`).", valueName: "layer"))
    var layer: String

    func run() throws {
        let policy = try global.api().get("/layers/\(escape(layer))/sandbox")
        if global.json { return global.printJSON(policy) }
        print(Self.render(policy))
    }

    static func pad(_ label: String) -> String {
        label + String(repeating: " ", count: max(1, 16 - label.count))
    }

    static func render(_ p: JSONValue) -> String {
        var lines: [String] = []
        func add(_ label: String, _ value: JSONValue?) {
            guard let value, !value.isNull else { return }
            let text: String
            switch value {
            case .string(let s): text = s
            case .array(let a): text = a.map { $0.stringValue ?? JSONWriter.string($0) }.joined(separator: " ")
            default: text = JSONWriter.string(value, sortedKeys: true)
            }
            lines.append(pad(label) + text)
        }
        add("layer", p["layer"])
        add("mode", p["mode"])
        add("cgroups", p["cgroup_mode"])
        add("landlock abi", p["landlock_abi"])
        let policy = p["policy"]
        add("default action", policy?["default_action"])
        add("network", policy?["network"])
        add("namespaces", policy?["namespaces"])
        add("read-only", policy?["read_only"])
        add("read-write", policy?["read_write"])
        add("rlimits", policy?["rlimits"])
        add("limits", p["limits"])
        if let syscalls = policy?["syscalls"]?.arrayValue {
            lines.append(pad("syscalls (\(syscalls.count))") + syscalls.compactMap(\.stringValue).joined(separator: " "))
        }
        add("errno", policy?["errno"])
        add("launcher", p["launcher"])
        return lines.joined(separator: "\n")
    }
}
