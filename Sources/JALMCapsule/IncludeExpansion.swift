import JALMCore
import JALMDocument
import JALMWire

/// A submitted capsule with its includes spliced in: the document that is planned, journaled and, after a
/// restart, parsed again (never the fragment files, which may have changed since). A capsule that includes
/// nothing is its own expansion, byte for byte, found without a parse or a file read.
public struct IncludeExpansion: Sendable {
    /// The document to plan and journal: the submitted bytes, or the expansion as compact JSON.
    public var body: [UInt8]
    /// The content type of `body`.
    public var contentType: String?
    /// Where each step of an expanded document came from, by its pointer there; empty when nothing was spliced.
    let origins: [JSONPointer: IncludeOrigin]

    /// Whether fragments were spliced in (the body is then not what was submitted).
    public var isExpanded: Bool { !origins.isEmpty }

    /// Expands `body`'s includes, reading fragments from `source`.
    public static func expand(body: [UInt8], contentType: String?, from source: any FragmentSource,
                              limits: IncludeLimits = IncludeLimits()) throws(RunnerError) -> IncludeExpansion {
        let unchanged = IncludeExpansion(body: body, contentType: contentType, origins: [:])
        // The common case costs one scan of the bytes: no "include" anywhere, nothing to splice.
        guard mentionsInclude(body) else { return unchanged }
        let document = try Document.parse(body, contentType: contentType)
        var base = JSONPointer.root
        var capsule = document
        if let wrapped = document[CapsuleParser.wrapperKey] {
            base = base.appending(CapsuleParser.wrapperKey)
            capsule = wrapped
        }
        guard case .object(let object) = capsule else { return unchanged }
        var resolver = IncludeResolver(source: source, limits: limits)
        let expanded = JSONValue.object(try resolver.expand(capsule: object, at: base))
        guard resolver.spliced else { return unchanged }
        let whole = base.tokens.isEmpty ? expanded : document.replacing(at: base.tokens[...], with: expanded)
        guard !whole.exceedsJSONBytes(limits.maxExpandedBytes) else {
            throw invalid("with its includes the capsule has more than \(limits.maxExpandedBytes) bytes as JSON",
                          at: base.appending(Include.key))
        }
        return IncludeExpansion(body: JSONWriter.bytes(whole, sortedKeys: true), contentType: "application/json",
                                origins: resolver.origins)
    }

    /// Tells an error found in the expanded document (by the parser or the validator) in terms of the
    /// submitted one: a pointer into a step that was shifted by a splice is moved back, and one into a
    /// fragment's step becomes the include step that brought it, the fragment's place in the message.
    public func explain(_ error: RunnerError) -> RunnerError {
        guard !origins.isEmpty, let text = error.pointer, let pointer = JSONPointer(parsing: text) else { return error }
        var tokens = pointer.tokens
        var rest: [String] = []
        while !tokens.isEmpty {
            if let origin = origins[JSONPointer(tokens)] {
                let place = origin.pointer + JSONPointer(rest)
                guard !origin.chain.isEmpty else {
                    var moved = error
                    moved.pointer = place.description
                    return moved
                }
                var told = origin.chain.error(error.message, at: place)
                told.code = error.code
                return told
            }
            rest.insert(tokens.removeLast(), at: 0)
        }
        return error
    }

    /// Whether the bytes hold `include` (a key of it cannot be written otherwise, but for a JSON escape, which
    /// the parser then refuses as an unknown step key, or accepts as an unused map).
    static func mentionsInclude(_ body: [UInt8]) -> Bool {
        let word = includeBytes
        guard body.count >= word.count else { return false }
        // Every submission passes here: compare in place, without a slice or an array per candidate.
        outer: for i in 0...(body.count - word.count) where body[i] == word[0] {
            for j in 1..<word.count where body[i + j] != word[j] { continue outer }
            return true
        }
        return false
    }

    private static let includeBytes = Array(Include.key.utf8)
}

extension JSONValue {
    /// Whether this value written as compact JSON would take more than `limit` bytes, found without writing
    /// it and without walking further than the limit (an alias-heavy YAML fragment may stand for gigabytes).
    func exceedsJSONBytes(_ limit: Int) -> Bool {
        var budget = limit
        return !fits(&budget)
    }

    private func fits(_ budget: inout Int) -> Bool {
        switch self {
        case .null, .bool: budget -= 5
        case .int, .double: budget -= 24
        case .string(let s): budget -= s.utf8.count + 2
        case .array(let a):
            budget -= a.count + 2
            for v in a where budget >= 0 { guard v.fits(&budget) else { return false } }
        case .object(let o):
            budget -= 2
            for (k, v) in o where budget >= 0 {
                budget -= k.utf8.count + 4
                guard v.fits(&budget) else { return false }
            }
        }
        return budget >= 0
    }
}
