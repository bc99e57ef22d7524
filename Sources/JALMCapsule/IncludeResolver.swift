import JALMCore
import JALMDocument
import JALMWire

/// Splices fragments into a parsed document: every `{include: NAME}` step, in every list of steps (the
/// capsule's, a switch case's, a foreach's, a parallel branch), is replaced by the steps of the fragment
/// NAME names, themselves expanded the same way with their own file's `include:` map. Pure but for the
/// `FragmentSource` it reads through; each file is read once per expansion.
///
/// Every refusal is `invalid_input` with a pointer into the submitted document: the `include/NAME` entry
/// when its target is wrong, the include step when its name is, and, for anything found inside a
/// fragment, the first include step of the chain that reached it, with the fragment's place and the
/// chain in the message.
struct IncludeResolver {
    let source: any FragmentSource
    let limits: IncludeLimits
    /// Each file's parsed document, by the path as written (the source's name for it is in `FragmentFile`).
    private var files: [String: (name: String, document: JSONValue)] = [:]
    /// Where each step of the expanded document came from, by its pointer there.
    private(set) var origins: [JSONPointer: IncludeOrigin] = [:]
    /// Steps placed so far, those inside blocks counted, as the parser counts them.
    private var stepCount = 0
    /// Whether any include step was replaced.
    private(set) var spliced = false
    /// Where each step id was placed first: a fragment included twice would repeat its ids, and the parser's
    /// refusal would name neither the fragment nor the other place.
    private var ids: [String: IncludeOrigin] = [:]

    init(source: any FragmentSource, limits: IncludeLimits) {
        self.source = source
        self.limits = limits
    }

    /// The names a document declares: `include: {NAME: "PATH#POINTER"}` at `pointer` of the document that the
    /// chain leads to.
    struct Scope {
        var entries: [String: (target: IncludeTarget, pointer: JSONPointer)] = [:]
    }

    /// Where the steps of a block are, by its key: a block kind that holds steps adds its place here.
    /// `on_error.steps` is a fallback sequence (refused by the parser until it is built).
    static func innerLists(of step: [String: JSONValue]) -> [[String]] {
        var lists: [[String]] = []
        if case .array = step["steps"] { lists.append(["steps"]) }
        if case .array(let cases)? = step["switch"] {
            for (i, c) in cases.enumerated() {
                for key in ["steps", BlockParser.defaultKey] where c[key]?.arrayValue != nil { lists.append(["switch", "\(i)", key]) }
            }
        }
        if case .object(let branches)? = step["parallel"] {
            for name in branches.keys.sorted() where branches[name]?.arrayValue != nil { lists.append(["parallel", name]) }
        }
        if step["on_error"]?["steps"]?.arrayValue != nil { lists.append(["on_error", "steps"]) }
        return lists
    }

    /// The capsule object at `base` with its steps expanded.
    mutating func expand(capsule: [String: JSONValue], at base: JSONPointer) throws(RunnerError) -> [String: JSONValue] {
        let scope = try names(capsule[Include.key], at: base.appending(Include.key), chain: [])
        guard case .array(let items)? = capsule["steps"] else { return capsule }
        var out: [JSONValue] = []
        let steps = base.appending("steps")
        try expand(items, at: steps, into: &out, list: steps, scope: scope, chain: [])
        var expanded = capsule
        expanded["steps"] = .array(out)
        return expanded
    }

    /// Checks a document's `include:` map (nil: it has none).
    func names(_ value: JSONValue?, at pointer: JSONPointer, chain: IncludeChain) throws(RunnerError) -> Scope {
        guard let value else { return Scope() }
        guard case .object(let map) = value else {
            throw chain.error("include must be an object of names and targets, such as {auth: \"fragments/auth.yml#/steps\"}, "
                              + "got \(value.typeName)", at: pointer)
        }
        var scope = Scope()
        for name in map.keys.sorted() {
            let at = pointer.appending(name)
            guard StepParser.isValidID(name) else {
                throw chain.error("include name \"\(name)\" must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$", at: at)
            }
            guard case .string(let text)? = map[name] else {
                throw chain.error("include \(name) must be a text PATH#POINTER, got \(map[name]!.typeName)", at: at)
            }
            switch IncludeTarget.parse(text) {
            case .success(let target): scope.entries[name] = (target, at)
            case .failure(let error): throw chain.error("include \(name): \(error.message)", at: at)
            }
        }
        return scope
    }

    /// Appends the steps of `items` (a list at `pointer` of the chain's document) to `out`, the list at `list`
    /// of the expanded document, include steps replaced by their fragments.
    mutating func expand(_ items: [JSONValue], at pointer: JSONPointer, into out: inout [JSONValue], list: JSONPointer,
                         scope: Scope, chain: IncludeChain) throws(RunnerError) {
        for (i, item) in items.enumerated() {
            let here = pointer.appending(i)
            if case .object(let object) = item, object[Include.key] != nil {
                try splice(object, at: here, into: &out, list: list, scope: scope, chain: chain)
                continue
            }
            let target = list.appending(out.count)
            stepCount += 1
            guard stepCount <= CapsuleParser.maxSteps else {
                throw chain.error("with its includes the capsule has more than \(CapsuleParser.maxSteps) steps", at: here)
            }
            origins[target] = IncludeOrigin(pointer: here, chain: chain)
            try place(id: item["id"], at: here, chain: chain)
            out.append(try expandInner(item, at: here, expanded: target, scope: scope, chain: chain))
        }
    }

    /// A step with the lists of steps inside it expanded.
    mutating func expandInner(_ step: JSONValue, at pointer: JSONPointer, expanded: JSONPointer, scope: Scope,
                              chain: IncludeChain) throws(RunnerError) -> JSONValue {
        guard case .object(let object) = step else { return step }
        var result = JSONValue.object(object)
        for path in Self.innerLists(of: object) {
            let inner = JSONPointer(path)
            guard case .array(let items)? = inner.resolve(in: step) else { continue }
            var out: [JSONValue] = []
            try expand(items, at: pointer + inner, into: &out, list: expanded + inner, scope: scope, chain: chain)
            result = result.replacing(at: path[...], with: .array(out))
        }
        return result
    }

    /// Refuses a step id placed before, saying where both are (the parser checks ids again, in every capsule).
    mutating func place(id: JSONValue?, at pointer: JSONPointer, chain: IncludeChain) throws(RunnerError) {
        guard case .string(let id)? = id else { return }
        if let first = ids[id] {
            let there = first.chain.isEmpty ? "also at \(first.pointer)"
                : "already brought in by \(first.chain.text) at \(first.chain.last!.file)#\(first.pointer)"
            throw chain.error("duplicate step id \"\(id)\", \(there); ids are unique across the capsule, "
                              + "the steps of its fragments included", at: pointer.appending("id"))
        }
        ids[id] = IncludeOrigin(pointer: pointer, chain: chain)
    }

    /// Replaces the include step at `pointer` by its fragment's steps.
    mutating func splice(_ step: [String: JSONValue], at pointer: JSONPointer, into out: inout [JSONValue],
                         list: JSONPointer, scope: Scope, chain: IncludeChain) throws(RunnerError) {
        let at = pointer.appending(Include.key)
        for key in step.keys.sorted() where key != Include.key {
            throw chain.error("an include step has only include: NAME; the fragment's steps replace it", at: pointer.appending(key))
        }
        guard case .string(let name)? = step[Include.key] else {
            throw chain.error("include names an entry of the include map, got \(step[Include.key]!.typeName)", at: at)
        }
        guard let entry = scope.entries[name] else {
            let known = scope.entries.keys.sorted().joined(separator: ", ")
            throw chain.error("unknown include \"\(name)\"; " + (known.isEmpty ? "there is no include map beside these steps"
                                                                              : "the include map has \(known)"), at: at)
        }
        guard chain.count < limits.maxDepth else {
            throw chain.error("includes nest at most \(limits.maxDepth) deep; \"\(name)\" would be include \(chain.count + 1)", at: at)
        }
        let (file, document) = try read(entry.target, entry: entry.pointer, chain: chain)
        let link = IncludeLink(name: name, target: entry.target.text, file: file, pointer: entry.target.pointer, step: pointer)
        if let first = chain.firstIndex(where: { $0.file == file && $0.pointer == link.pointer }) {
            let cycle = (chain[first...].map(\.place) + [link.place]).joined(separator: " → ")
            throw chain.error("include cycle: \(cycle)", at: at)
        }
        let items = try steps(in: document, of: entry, file: file, chain: chain)
        let inner = chain + [link]
        spliced = true
        try expand(items, at: link.pointer, into: &out, list: list,
                   scope: try names(document[Include.key], at: JSONPointer([Include.key]), chain: inner), chain: inner)
    }

    /// The non-empty list of steps a target names in its file.
    func steps(in document: JSONValue, of entry: (target: IncludeTarget, pointer: JSONPointer), file: String,
               chain: IncludeChain) throws(RunnerError) -> [JSONValue] {
        let place = "\(file)#\(entry.target.pointer)"
        guard let value = entry.target.pointer.resolve(in: document) else {
            throw chain.error("include: \(file) has nothing at \(entry.target.pointer.description.isEmpty ? "its root" : entry.target.pointer.description)",
                              at: entry.pointer)
        }
        guard case .array(let items) = value else {
            let article = "aeiou".contains(value.typeName.first!) ? "an" : "a"
            throw chain.error("include: \(place) is \(article) \(value.typeName), not a list of steps", at: entry.pointer)
        }
        guard !items.isEmpty else {
            throw chain.error("include: \(place) is an empty list; a fragment has at least one step", at: entry.pointer)
        }
        return items
    }

    /// A fragment file, parsed, once per expansion: the source's name for it and its document.
    mutating func read(_ target: IncludeTarget, entry: JSONPointer, chain: IncludeChain) throws(RunnerError)
        -> (String, JSONValue)
    {
        if let known = files[target.path] { return known }
        let file: FragmentFile
        let document: JSONValue
        do {
            file = try source.read(target.path, limit: limits.maxFragmentBytes)
            document = try Document.parse(file.bytes, contentType: Self.contentType(of: target.path))
        } catch {
            throw chain.error("include \(target.text): \(error.message)", at: entry)
        }
        files[target.path] = (file.name, document)
        return (file.name, document)
    }

    /// JSON for `.json`, YAML for `.yml`/`.yaml`; the first byte decides for anything else.
    static func contentType(of path: String) -> String? {
        if path.hasSuffix(".json") { return "application/json" }
        if path.hasSuffix(".yml") || path.hasSuffix(".yaml") { return "application/yaml" }
        return nil
    }
}

/// Where a step of an expanded document came from: a place in the submitted document (empty chain), or in
/// the fragment at the end of the chain.
struct IncludeOrigin: Sendable, Hashable {
    var pointer: JSONPointer
    var chain: IncludeChain
}

extension JSONValue {
    /// This value with the value at `path` (which exists) replaced.
    func replacing(at path: ArraySlice<String>, with value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        switch self {
        case .object(var o):
            o[key] = o[key]?.replacing(at: path.dropFirst(), with: value)
            return .object(o)
        case .array(var a):
            guard let i = Int(key), a.indices.contains(i) else { return self }
            a[i] = a[i].replacing(at: path.dropFirst(), with: value)
            return .array(a)
        default:
            return self
        }
    }
}
