import JALMCore
import JALMDocument
import JALMWire

/// Reading and checking policy files: every error is `invalid_input` naming the file (message and
/// `details.file`) and the JSON Pointer of the field (`pointer`).
enum PolicyFile {
    /// Policy files are small; a bigger one is a mistake, not a policy.
    static let maxBytes = 1 << 20

    static func read(_ file: String) throws(RunnerError) -> JSONValue {
        guard let bytes = SysFile.readBytes(file, limit: maxBytes + 1) else {
            throw invalid(file, "", "cannot read the file")
        }
        guard bytes.count <= maxBytes else { throw invalid(file, "", "larger than \(maxBytes) bytes") }
        do {
            return try Document.parse(bytes, contentType: "yaml")
        } catch {
            throw invalid(file, error.pointer ?? "", error.message)
        }
    }

    static func invalid(_ file: String, _ pointer: String, _ message: String) -> RunnerError {
        let at = pointer.isEmpty ? "" : " at \(pointer)"
        return RunnerError(.invalidInput, "\(file)\(at): \(message)", pointer: pointer,
                           details: ["file": .string(file)])
    }

    /// Lower-case letters, digits, `_` and the given extra characters; not empty.
    static func isIdentifier(_ text: String, extra: String = "") -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || extra.utf8.contains(c)
        }
    }

    /// A list of syscall names (`[a-z0-9_]+`); unknown names are the launcher's to warn about.
    static func syscallNames(_ value: JSONValue, file: String, at pointer: JSONPointer) throws(RunnerError) -> [String] {
        guard let items = value.arrayValue else {
            throw invalid(file, pointer.description, "must be a list of syscall names, got \(value.typeName)")
        }
        var names: [String] = []
        for (i, item) in items.enumerated() {
            guard let name = item.stringValue, isIdentifier(name) else {
                throw invalid(file, pointer.appending(i).description, "not a syscall name: \(item)")
            }
            names.append(name)
        }
        return names
    }

    /// A list of strings at `pointer`.
    static func strings(_ value: JSONValue, file: String, at pointer: JSONPointer) throws(RunnerError) -> [String] {
        guard let items = value.arrayValue else {
            throw invalid(file, pointer.description, "must be a list of strings, got \(value.typeName)")
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue else {
                throw invalid(file, pointer.appending(i).description, "must be a string, got \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }

    /// The object at `pointer`, refusing keys outside `allowed` (a misspelt key must not weaken a policy).
    static func object(_ value: JSONValue, file: String, at pointer: JSONPointer,
                       allowed: Set<String>) throws(RunnerError) -> [String: JSONValue] {
        guard let object = value.objectValue else {
            throw invalid(file, pointer.description, "must be an object, got \(value.typeName)")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw invalid(file, pointer.appending(unknown).description,
                          "unknown key \"\(unknown)\" (known: \(allowed.sorted().joined(separator: ", ")))")
        }
        return object
    }
}
