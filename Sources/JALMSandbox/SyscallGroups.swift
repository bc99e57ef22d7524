import JALMCore
import JALMWire

/// The named syscall groups of `sandbox/groups.yml`: each a list of syscall names a policy can take whole.
public struct SyscallGroups: Sendable, Hashable {
    /// Group name → its syscalls, in file order.
    public var groups: [String: [String]]

    public init(groups: [String: [String]]) { self.groups = groups }

    /// Reads and checks `<directory>/groups.yml`.
    public static func load(directory: String) throws(RunnerError) -> SyscallGroups {
        let file = directory + "/groups.yml"
        let doc = try PolicyFile.read(file)
        return try parse(doc, file: file)
    }

    /// Checks a parsed groups document: an object of group names to lists of syscall names.
    public static func parse(_ doc: JSONValue, file: String) throws(RunnerError) -> SyscallGroups {
        guard let object = doc.objectValue, !object.isEmpty else {
            throw PolicyFile.invalid(file, "", "must be an object of group names to lists of syscall names")
        }
        var groups: [String: [String]] = [:]
        for (name, value) in object {
            let pointer = JSONPointer([name])
            guard PolicyFile.isIdentifier(name, extra: "-") else {
                throw PolicyFile.invalid(file, pointer.description, "group name \"\(name)\" is not [a-z0-9_-]+")
            }
            groups[name] = try PolicyFile.syscallNames(value, file: file, at: pointer)
        }
        return SyscallGroups(groups: groups)
    }
}
