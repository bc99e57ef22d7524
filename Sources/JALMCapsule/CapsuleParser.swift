import JALMCore
import JALMWire

/// Turns a submitted document into a `Capsule`, checking every rule that needs no catalog.
/// Each violation is `invalid_input` with the pointer of the exact field at fault.
public enum CapsuleParser {
    /// Most steps one capsule may have.
    public static let maxSteps = 1000
    /// The key under which a capsule may be wrapped: `{"jalm_config": {...}}`.
    public static let wrapperKey = "jalm_config"
    /// The keys a capsule may have at its top level. `include` is read by `IncludeExpansion` before the
    /// parser sees the document; an expanded document keeps it as the record of where its steps came from.
    public static let topLevelKeys: Set<String> = ["intent", "vars", "secrets", "steps", "meta", "description", "name",
                                                   Include.key]

    /// Parses a capsule object, or one wrapped as `{"jalm_config": capsule}` (pointers then start there).
    /// `defaultOps` (layer → op, from the catalog) names the op of a step that gives none.
    public static func parse(_ document: JSONValue, defaultOps: [String: String] = [:]) throws(RunnerError) -> Capsule {
        var base = JSONPointer.root
        var body = document
        if let wrapped = document[wrapperKey] {
            base = base.appending(wrapperKey)
            body = wrapped
        }
        guard case .object(let object) = body else {
            throw invalid("a capsule must be an object, got \(body.typeName)", at: base)
        }
        // A typo such as `var:` must not pass silently with its values ignored.
        for key in object.keys.sorted() where !topLevelKeys.contains(key) {
            throw invalid("unknown key \"\(key)\"; a capsule has: \(topLevelKeys.sorted().joined(separator: ", "))",
                          at: base.appending(key))
        }
        let meta = try optionalObject(object, "meta", at: base).map(JSONValue.object) ?? .null
        var capsule = Capsule(
            intent: try intent(object, at: base),
            vars: try optionalObject(object, "vars", at: base) ?? [:],
            secretNames: try secrets(object, at: base),
            steps: try steps(object, defaultOps: defaultOps, at: base),
            meta: meta,
            document: body,
            basePointer: base)
        capsule.limits = try ExecutionLimits.parse(meta: meta, at: base.appending("meta"))
        return capsule
    }

    static func intent(_ object: [String: JSONValue], at base: JSONPointer) throws(RunnerError) -> String {
        guard let value = object["intent"] else { return "unnamed" }
        guard case .string(let text) = value else {
            throw invalid("intent must be a string, got \(value.typeName)", at: base.appending("intent"))
        }
        return text
    }

    static func optionalObject(_ object: [String: JSONValue], _ key: String, at base: JSONPointer)
        throws(RunnerError) -> [String: JSONValue]?
    {
        guard let value = object[key] else { return nil }
        guard case .object(let inner) = value else {
            throw invalid("\(key) must be an object, got \(value.typeName)", at: base.appending(key))
        }
        return inner
    }

    static func secrets(_ object: [String: JSONValue], at base: JSONPointer) throws(RunnerError) -> [String] {
        guard let value = object["secrets"] else { return [] }
        let pointer = base.appending("secrets")
        guard case .array(let items) = value else {
            throw invalid("secrets must be an array of names, got \(value.typeName)", at: pointer)
        }
        var names: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let name) = item, !name.isEmpty else {
                throw invalid("a secret name must be a non-empty string", at: pointer.appending(i))
            }
            names.append(name)
        }
        return names
    }

    static func steps(_ object: [String: JSONValue], defaultOps: [String: String], at base: JSONPointer)
        throws(RunnerError) -> [Step]
    {
        let pointer = base.appending("steps")
        guard let value = object["steps"] else { throw invalid("steps is required", at: pointer) }
        let steps = try StepParser.sequence(value, defaultOps: defaultOps, depth: 0, at: pointer)
        // Ids are unique across the whole capsule, blocks included: a template or condition names a step
        // by its id alone, and the journal by its address (ENGINE.md, docs/capsules.md).
        var seen: Set<String> = []
        var count = 0
        for step in steps.flatMap({ [$0] + $0.descendants }) {
            count += 1
            guard seen.insert(step.id).inserted else {
                throw invalid("duplicate step id \"\(step.id)\"; ids are unique across the capsule, inside blocks too",
                              at: step.pointer.appending("id"))
            }
        }
        guard count <= maxSteps else {
            throw invalid("a capsule has at most \(maxSteps) steps, those inside blocks counted; this one has \(count)",
                          at: pointer)
        }
        return steps
    }
}
