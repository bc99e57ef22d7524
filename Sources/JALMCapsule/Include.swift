import JALMCore
import JALMWire

/// `include:` — a capsule names fragments (lists of steps kept in files under `<data>/capsules/`) and splices
/// them in with `{include: NAME}` steps (docs/capsules.md, "Include: reusing fragments"). Stored capsules
/// (issue 15) are not a source yet: only files.
public enum Include {
    /// The key of a document's map of names, and the only key of a step that splices one in.
    public static let key = "include"
    /// The list a target without `#POINTER` names: the file's `steps`.
    static let defaultPointer = JSONPointer(["steps"])
}

/// The bounds of one expansion; jalmd.yml sets them (`include_max_depth`, `include_max_fragment_bytes`,
/// `include_max_expanded_bytes`).
public struct IncludeLimits: Sendable, Hashable {
    /// How many fragments deep includes may nest: a capsule's own include is depth 1.
    public var maxDepth = 8
    /// Largest fragment file read, in bytes.
    public var maxFragmentBytes = 1 << 20
    /// Largest expanded document (compact JSON, what is journaled), in bytes.
    public var maxExpandedBytes = 8 << 20

    public init(maxDepth: Int = 8, maxFragmentBytes: Int = 1 << 20, maxExpandedBytes: Int = 8 << 20) {
        self.maxDepth = maxDepth
        self.maxFragmentBytes = maxFragmentBytes
        self.maxExpandedBytes = maxExpandedBytes
    }
}

/// One entry of an `include:` map: `PATH#POINTER`, PATH relative to the capsules folder.
struct IncludeTarget: Sendable, Hashable {
    /// The file, relative to the capsules folder, as written.
    var path: String
    /// Where the list of steps is in that file.
    var pointer: JSONPointer
    /// The entry as written, for messages.
    var text: String

    /// `fragments/auth.yml#/steps`, `fragments/auth.yml#steps` (the issue's short form: a pointer without its
    /// leading `/`), `fragments/auth.yml` (its `steps`) or `list.yml#` (the whole file). A path is relative,
    /// without `..`: the folder's bounds are decided here before any file is opened, and by the real path of
    /// what is opened after (`CapsuleFolder`).
    static func parse(_ text: String) -> Result<IncludeTarget, RunnerError> {
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        if let fault = pathFault(path) { return .failure(invalid(fault, at: .root)) }
        guard parts.count == 2 else { return .success(IncludeTarget(path: path, pointer: Include.defaultPointer, text: text)) }
        let fragment = String(parts[1])
        guard let pointer = JSONPointer(parsing: fragment.isEmpty || fragment.hasPrefix("/") ? fragment : "/" + fragment)
        else { return .failure(invalid("\"\(fragment)\" is not a JSON Pointer", at: .root)) }
        return .success(IncludeTarget(path: path, pointer: pointer, text: text))
    }

    /// Why `path` may not name a file of the capsules folder, if it may not.
    static func pathFault(_ path: String) -> String? {
        if path.isEmpty { return "an include target needs a file: PATH#POINTER, such as fragments/auth.yml#/steps" }
        if path.hasPrefix("/") { return "\(path) is absolute; a fragment's path is relative to the capsules folder" }
        if path.utf8.contains(0) { return "a fragment's path may not hold a NUL byte" }
        if path.split(separator: "/").contains("..") {
            return "\(path) goes up with ..; a fragment must be inside the capsules folder"
        }
        return nil
    }
}

/// One link of an include chain: a step that named an entry, and the list of steps that replaced it.
public struct IncludeLink: Sendable, Hashable {
    /// The entry's name.
    public var name: String
    /// The entry as written: `fragments/auth.yml#steps`.
    public var target: String
    /// The file, as the source names it (its real path under the capsules folder).
    public var file: String
    /// The list of steps in that file.
    public var pointer: JSONPointer
    /// The include step, in the document that holds it (the submitted one for the first link).
    public var step: JSONPointer

    /// `fragments/auth.yml#/steps`.
    var place: String { "\(file)#\(pointer)" }
}

/// The links from the submitted document down to a fragment (empty: the submitted document itself).
typealias IncludeChain = [IncludeLink]

extension Array where Element == IncludeLink {
    /// `/steps/1 (auth: fragments/auth.yml#/steps), fragments/auth.yml#/steps/0 (inner: …)`.
    var text: String {
        enumerated().map { i, link in
            let step = i == 0 ? link.step.description : "\(self[i - 1].file)#\(link.step)"
            return "\(step) (\(link.name): \(link.place))"
        }.joined(separator: ", ")
    }

    /// `details.include` of an error found in a fragment.
    var json: JSONValue {
        .array(map { ["name": .string($0.name), "target": .string($0.target), "file": .string($0.file),
                      "pointer": .string($0.pointer.description), "step": .string($0.step.description)] })
    }

    /// An error at `pointer` of the innermost document of the chain, told in the submitted document: its
    /// pointer is the first include step there, its message names the fragment's place and the chain.
    func error(_ message: String, at pointer: JSONPointer) -> RunnerError {
        guard let first, let last else { return invalid(message, at: pointer) }
        return RunnerError(.invalidInput, "\(last.file)#\(pointer): \(message) (included at \(text))",
                           at: first.step,
                           details: ["include": json, "fragment": ["file": .string(last.file),
                                                                   "pointer": .string(pointer.description)]])
    }
}
