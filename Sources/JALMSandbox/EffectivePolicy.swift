import JALMWire

/// A policy resolved for this host: placeholders replaced, syscalls final. What `jalm sandbox check`
/// prints and what the launcher's options are built from.
public struct EffectivePolicy: Sendable, Hashable {
    public var layer: String
    public var defaultAction: SandboxPolicy.DefaultAction
    /// Allowed syscalls, sorted and unique; a syscall in `errno` is not here (its errno rule wins, and
    /// libseccomp refuses two rules for one syscall).
    public var syscalls: [String]
    /// Syscalls that fail with an errno instead of being allowed or killing the process.
    public var errno: [String: ErrnoCode]
    public var network: SandboxPolicy.NetworkMode
    /// Resolved read-only paths, unique, in policy order.
    public var readOnly: [String]
    /// Resolved read-write paths, unique, in policy order.
    public var readWrite: [String]
    public var namespaces: [SandboxPolicy.Namespace]
    public var rlimits: [SandboxPolicy.Rlimit]
    /// Policy paths left out because a placeholder in them had no value (said in `json`, never silent).
    public var unresolved: [String]
    /// `read_write: ["{cgroup}"]`: the process's own cgroup leaf folders are writable to it (Landlock), so
    /// that it can make cgroups of its own beneath them (compute-script: one per run).
    public var delegatesCgroup = false

    /// Every field as `jalm sandbox check LAYER` shows it.
    public var json: JSONValue {
        var rl: [String: JSONValue] = [:]
        for r in rlimits {
            rl[r.name] = r.soft == r.hard ? (r.soft.map { .int(Int64(clamping: $0)) } ?? "unlimited")
                : .string(SandboxPolicy.Rlimit.text(r.soft) + ":" + SandboxPolicy.Rlimit.text(r.hard))
        }
        var o: [String: JSONValue] = [
            "layer": .string(layer), "default_action": .string(defaultAction.rawValue),
            "syscalls": .array(syscalls.map { .string($0) }),
            "errno": .object(errno.mapValues { .string($0.name) }),
            "network": .string(network.rawValue),
            "read_only": .array(readOnly.map { .string($0) }), "read_write": .array(readWrite.map { .string($0) }),
            "namespaces": .array(namespaces.map { .string($0.rawValue) }), "rlimits": .object(rl),
        ]
        if !unresolved.isEmpty { o["unresolved"] = .array(unresolved.map { .string($0) }) }
        if delegatesCgroup { o["cgroup_delegated"] = true }
        return .object(o)
    }
}

extension SandboxPolicy {
    /// The policy for this host: `{data}`, `{bin}`, `{share}`, `{exe}`, `{swift_runtime}` replaced by
    /// `placeholders`; a path whose placeholder has no value is left out and listed in `unresolved`.
    public func effective(placeholders: [String: String]) -> EffectivePolicy {
        var unresolved: [String] = []
        func resolve(_ paths: [String]) -> [String] {
            var out: [String] = []
            for path in paths {
                guard let p = Placeholders.resolve(path, placeholders) else { unresolved.append(path); continue }
                if !out.contains(p) { out.append(p) }
            }
            return out
        }
        // {cgroup} is per process (each pool slot has its leaf): the launcher arguments add it, not here.
        let ro = resolve(readOnly), rw = resolve(readWrite.filter { $0 != "{cgroup}" })
        var e = EffectivePolicy(
            layer: layer, defaultAction: defaultAction, syscalls: syscalls.filter { errno[$0] == nil },
            errno: errno, network: network, readOnly: ro, readWrite: rw, namespaces: namespaces, rlimits: rlimits,
            unresolved: unresolved)
        e.delegatesCgroup = readWrite.contains("{cgroup}")
        return e
    }
}
