import JALMCore
import JALMWire

extension SandboxPolicy {
    static let topKeys: Set<String> = ["layer", "default_action", "syscalls", "network", "filesystem", "namespaces", "rlimits"]
    static let syscallKeys: Set<String> = ["groups", "extra", "errno"]
    static let filesystemKeys: Set<String> = ["read_only", "read_write"]

    /// Reads `<directory>/<layer>.yml` and the groups it names from `<directory>/groups.yml`.
    ///
    /// Unknown keys, unknown groups, an unknown action or namespace, a path that is neither absolute nor
    /// starts with a known placeholder, and `network: none` without `net` in `namespaces` are all errors:
    /// `invalid_input` naming the file and the JSON Pointer of the field.
    public static func load(layer: String, directory: String) throws(RunnerError) -> SandboxPolicy {
        guard PolicyFile.isIdentifier(layer, extra: "-") else {
            throw RunnerError(.invalidInput, "layer name \"\(layer)\" is not [a-z0-9_-]+")
        }
        let groups = try SyscallGroups.load(directory: directory)
        let file = "\(directory)/\(layer).yml"
        return try parse(PolicyFile.read(file), file: file, layer: layer, groups: groups)
    }

    /// A policy from its own file (a plugin that brings one, named by `policy:` in its manifest), with the
    /// groups of `groupsDirectory`.
    public static func load(layer: String, file: String, groupsDirectory: String) throws(RunnerError) -> SandboxPolicy {
        let groups = try SyscallGroups.load(directory: groupsDirectory)
        return try parse(PolicyFile.read(file), file: file, layer: layer, groups: groups)
    }

    /// Checks a parsed policy document against the groups; `file` names it in errors.
    public static func parse(_ doc: JSONValue, file: String, layer: String,
                             groups: SyscallGroups) throws(RunnerError) -> SandboxPolicy {
        let top = try PolicyFile.object(doc, file: file, at: .root, allowed: topKeys)
        func required(_ key: String) throws(RunnerError) -> JSONValue {
            guard let v = top[key] else { throw PolicyFile.invalid(file, "/\(key)", "is required") }
            return v
        }
        guard let name = try required("layer").stringValue, name == layer else {
            throw PolicyFile.invalid(file, "/layer", "must be \"\(layer)\", the layer the file is named for")
        }
        let action = try enumValue(required("default_action"), DefaultAction.self, file: file, at: "/default_action")
        let network = try enumValue(required("network"), NetworkMode.self, file: file, at: "/network")
        let (groupNames, syscalls, errno) = try parseSyscalls(required("syscalls"), file: file, groups: groups)
        let (ro, rw) = try parseFilesystem(required("filesystem"), file: file)
        let namespaces = try parseNamespaces(required("namespaces"), file: file)
        // An empty network namespace is how "no network" is enforced (Landlock TCP rules need ABI 4).
        if network == .none && !namespaces.contains(.net) {
            throw PolicyFile.invalid(file, "/namespaces", "network: none needs \"net\" in namespaces")
        }
        let rlimits = try top["rlimits"].map { v throws(RunnerError) in try parseRlimits(v, file: file) } ?? []
        return SandboxPolicy(layer: layer, defaultAction: action, groups: groupNames, syscalls: syscalls, errno: errno,
                             network: network, readOnly: ro, readWrite: rw, namespaces: namespaces, rlimits: rlimits)
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(
        _ value: JSONValue, _ type: E.Type, file: String, at pointer: String
    ) throws(RunnerError) -> E where E.RawValue == String {
        guard let s = value.stringValue, let e = E(rawValue: s) else {
            let known = E.allCases.map(\.rawValue).joined(separator: " | ")
            throw PolicyFile.invalid(file, pointer, "must be one of \(known), got \(value)")
        }
        return e
    }

    static func parseSyscalls(_ value: JSONValue, file: String, groups: SyscallGroups)
        throws(RunnerError) -> ([String], [String], [String: ErrnoCode])
    {
        let base = JSONPointer(["syscalls"])
        let o = try PolicyFile.object(value, file: file, at: base, allowed: syscallKeys)
        guard let groupsValue = o["groups"] else { throw PolicyFile.invalid(file, "/syscalls/groups", "is required") }
        let names = try PolicyFile.strings(groupsValue, file: file, at: base.appending("groups"))
        var all = Set<String>()
        for (i, group) in names.enumerated() {
            guard let members = groups.groups[group] else {
                throw PolicyFile.invalid(file, "/syscalls/groups/\(i)",
                    "unknown group \"\(group)\" (groups.yml has \(groups.groups.keys.sorted().joined(separator: ", ")))")
            }
            all.formUnion(members)
        }
        if let extra = o["extra"] {
            all.formUnion(try PolicyFile.syscallNames(extra, file: file, at: base.appending("extra")))
        }
        let errno = try parseErrno(o["errno"], file: file, at: base.appending("errno"))
        return (names, all.sorted(), errno)
    }

    static func parseErrno(_ value: JSONValue?, file: String, at pointer: JSONPointer)
        throws(RunnerError) -> [String: ErrnoCode]
    {
        guard let value else { return [:] }
        guard let o = value.objectValue else {
            throw PolicyFile.invalid(file, pointer.description, "must map syscall names to errno names")
        }
        var out: [String: ErrnoCode] = [:]
        for (name, v) in o {
            let at = pointer.appending(name).description
            guard PolicyFile.isIdentifier(name) else { throw PolicyFile.invalid(file, at, "not a syscall name") }
            let text = v.stringValue ?? v.intValue.map { String($0) } ?? ""
            guard let code = ErrnoCode(text) else {
                throw PolicyFile.invalid(file, at, "unknown errno \(v) (a name such as ENOSYS, or 1-4095)")
            }
            out[name] = code
        }
        return out
    }

    static func parseFilesystem(_ value: JSONValue, file: String) throws(RunnerError) -> ([String], [String]) {
        let base = JSONPointer(["filesystem"])
        let o = try PolicyFile.object(value, file: file, at: base, allowed: filesystemKeys)
        func paths(_ key: String) throws(RunnerError) -> [String] {
            guard let v = o[key] else { return [] }
            let list = try PolicyFile.strings(v, file: file, at: base.appending(key))
            for (i, path) in list.enumerated() {
                if let problem = pathProblem(path) {
                    throw PolicyFile.invalid(file, base.appending(key).appending(i).description, problem)
                }
            }
            return list
        }
        return (try paths("read_only"), try paths("read_write"))
    }

    /// Why a policy path is unusable, or nil: it must be absolute or start with a known placeholder,
    /// name only known placeholders, and have no `..` (Landlock rules follow the path as given).
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") || path.hasPrefix("{") else {
            return "\"\(path)\" is neither absolute nor starts with a placeholder"
        }
        if path.split(separator: "/").contains("..") { return "\"\(path)\" has a .. component" }
        for name in Placeholders.names(in: path) where !placeholderNames.contains(name) {
            return "unknown placeholder {\(name)} (known: \(placeholderNames.sorted().joined(separator: ", ")))"
        }
        return nil
    }

    static func parseNamespaces(_ value: JSONValue, file: String) throws(RunnerError) -> [Namespace] {
        let names = try PolicyFile.strings(value, file: file, at: JSONPointer(["namespaces"]))
        var out: [Namespace] = []
        for (i, name) in names.enumerated() {
            guard let ns = Namespace(rawValue: name) else {
                let known = Namespace.allCases.map(\.rawValue).joined(separator: ", ")
                throw PolicyFile.invalid(file, "/namespaces/\(i)", "unknown namespace \"\(name)\" (known: \(known))")
            }
            if !out.contains(ns) { out.append(ns) }
        }
        return out
    }
}
