import JALMCore
import JALMExpr
import JALMWire

/// The rules for a step that holds steps: `switch`, `foreach` and `parallel` (docs/capsules.md, "Blocks").
enum BlockParser {
    /// The key that makes a step a block, one per kind.
    static let kinds = ["switch", "foreach", "parallel"]
    /// Keys that only a block step has beside its kind.
    static let companionKeys: Set<String> = ["as", "concurrency", "fail_fast", "collect", "steps"]
    static var keys: Set<String> { Set(kinds).union(companionKeys) }

    static let switchStepKeys: Set<String> = ["id", "when", "on_error", "switch"]
    static let foreachStepKeys: Set<String> = ["id", "when", "on_error", "foreach", "as", "concurrency", "fail_fast",
                                               "collect", "steps"]
    static let parallelStepKeys: Set<String> = ["id", "when", "on_error", "parallel", "fail_fast"]
    /// The keys of one `switch` case.
    static let caseKeys: Set<String> = ["when", "steps"]
    static let defaultKey = "default"
    /// Blocks inside blocks, at most.
    public static let maxDepth = 8

    /// The block kind a step's keys name, if any.
    static func kind(of object: [String: JSONValue]) -> String? { kinds.first { object[$0] != nil } }

    static func parse(_ object: [String: JSONValue], kind: String, index: Int, defaultOps: [String: String], depth: Int,
                      at pointer: JSONPointer) throws(RunnerError) -> Step
    {
        for other in kinds + ["abort", "set"] where other != kind && object[other] != nil {
            throw invalid("a step is one thing: it has both \(kind) and \(other)", at: pointer.appending(other))
        }
        guard depth < maxDepth else {
            throw invalid("blocks may be nested at most \(maxDepth) deep", at: pointer.appending(kind))
        }
        var step = try StepParser.controlStep(object, kind: kind, index: index, at: pointer)
        if let value = object["on_error"] {
            step.onError = try StepParser.onError(value, defaultOps: defaultOps, depth: depth, at: pointer.appending("on_error"))
        }
        let inner = depth + 1
        switch kind {
        case "switch":
            step.block = .switch(try cases(object["switch"]!, defaultOps: defaultOps, depth: inner,
                                           at: pointer.appending("switch")))
        case "foreach":
            step.block = .foreach(try foreach(object, defaultOps: defaultOps, depth: inner, at: pointer))
        default:
            let failFast = try bool(object["fail_fast"], default: true, at: pointer.appending("fail_fast"))
            step.block = .parallel(branches: try branches(object["parallel"]!, defaultOps: defaultOps, depth: inner,
                                                          at: pointer.appending("parallel")),
                                   failFast: failFast)
        }
        return step
    }

    /// `switch: [{when, steps}, ..., {default: [...]}]`.
    static func cases(_ value: JSONValue, defaultOps: [String: String], depth: Int, at pointer: JSONPointer)
        throws(RunnerError) -> [SwitchCase]
    {
        guard case .array(let items) = value, !items.isEmpty else {
            throw invalid("switch must be a non-empty list of cases {when, steps} and an optional {default: steps}",
                          at: pointer)
        }
        var cases: [SwitchCase] = []
        for (i, item) in items.enumerated() {
            let at = pointer.appending(i)
            guard case .object(let c) = item else { throw invalid("a case must be an object, got \(item.typeName)", at: at) }
            if let steps = c[defaultKey] {
                guard c.count == 1 else {
                    throw invalid("a default case has only default: [steps]", at: at.appending(c.keys.sorted().first { $0 != defaultKey }!))
                }
                guard i == items.count - 1 else { throw invalid("the default case comes last", at: at) }
                cases.append(SwitchCase(when: nil, steps: try StepParser.sequence(
                    steps, defaultOps: defaultOps, depth: depth, at: at.appending(defaultKey)), pointer: at))
                continue
            }
            for key in c.keys.sorted() where !caseKeys.contains(key) {
                throw invalid("unknown case key \"\(key)\"; a case has when and steps, or is {default: steps}",
                              at: at.appending(key))
            }
            guard let when = c["when"] else { throw invalid("a case needs when (or is {default: steps})", at: at) }
            guard let steps = c["steps"] else { throw invalid("a case needs steps", at: at.appending("steps")) }
            cases.append(SwitchCase(when: try StepParser.condition(when, at: at.appending("when")),
                                    steps: try StepParser.sequence(steps, defaultOps: defaultOps, depth: depth,
                                                                   at: at.appending("steps")),
                                    pointer: at))
        }
        return cases
    }

    /// `foreach: ITEMS` with `as`, `concurrency`, `fail_fast`, `collect` and `steps` beside it.
    static func foreach(_ object: [String: JSONValue], defaultOps: [String: String], depth: Int, at pointer: JSONPointer)
        throws(RunnerError) -> Foreach
    {
        var items = object["foreach"]!
        var source: PageSource?
        switch items {
        case .object(let o) where o.keys.contains("items_from"):
            for key in o.keys.sorted() where key != "items_from" {
                throw invalid("foreach: {items_from: ...} has nothing else; \(key) belongs beside foreach",
                              at: pointer.appending("foreach").appending(key))
            }
            source = try PageSource.parse(o["items_from"]!, at: pointer.appending("foreach").appending("items_from"))
            items = .null
        case .array(let list) where list.count <= Foreach.maxItems: break
        case .array: throw invalid("foreach takes at most \(Foreach.maxItems) items", at: pointer.appending("foreach"))
        case .string(let s) where TemplateScanner.mayContainTemplate(s): break
        default:
            throw invalid("foreach must be a list, a template that gives one, such as \"{{ steps.q.output.rows }}\", "
                          + "or {items_from: {step: ID, page: N}}", at: pointer.appending("foreach"))
        }
        guard let body = object["steps"] else {
            throw invalid("a foreach step needs steps: the steps each item runs", at: pointer.appending("steps"))
        }
        var spec = Foreach(items: items, steps: try StepParser.sequence(body, defaultOps: defaultOps, depth: depth,
                                                                        at: pointer.appending("steps")))
        spec.source = source
        if let value = object["as"] {
            guard case .string(let name) = value, StepParser.isValidID(name),
                  !["vars", "steps", "secrets", "execution", Foreach.indexName].contains(name) else {
                throw invalid("as must be a name (^[A-Za-z_][A-Za-z0-9_-]{0,63}$) other than vars, steps, secrets, "
                              + "execution and index", at: pointer.appending("as"))
            }
            spec.itemName = name
        }
        if let value = object["concurrency"] {
            guard let n = value.intValue, n >= 1, n <= Int64(Foreach.maxConcurrency) else {
                throw invalid("concurrency must be a whole number from 1 to \(Foreach.maxConcurrency)",
                              at: pointer.appending("concurrency"))
            }
            spec.concurrency = Int(n)
        }
        spec.failFast = try bool(object["fail_fast"], default: true, at: pointer.appending("fail_fast"))
        if let value = object["collect"] {
            guard case .string(let id) = value, spec.steps.contains(where: { $0.id == id }) else {
                let ids = spec.steps.map(\.id).joined(separator: ", ")
                throw invalid("collect names a step of this foreach's steps: one of \(ids)", at: pointer.appending("collect"))
            }
            spec.collect = id
        }
        if spec.source != nil, spec.collect != nil {
            throw invalid("collect does not apply to a foreach with items_from: it gives {pages, items}, not a list",
                          at: pointer.appending("collect"))
        }
        return spec
    }

    /// `parallel: {NAME: [steps], ...}`.
    static func branches(_ value: JSONValue, defaultOps: [String: String], depth: Int, at pointer: JSONPointer)
        throws(RunnerError) -> [Branch]
    {
        guard case .object(let named) = value, !named.isEmpty else {
            throw invalid("parallel must be an object of named branches, such as {mail: [steps], archive: [steps]}",
                          at: pointer)
        }
        var branches: [Branch] = []
        for name in named.keys.sorted() {
            guard StepParser.isValidID(name) else {
                throw invalid("branch name \"\(name)\" must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$", at: pointer.appending(name))
            }
            branches.append(Branch(name: name, steps: try StepParser.sequence(named[name]!, defaultOps: defaultOps,
                                                                             depth: depth, at: pointer.appending(name))))
        }
        return branches
    }

    static func bool(_ value: JSONValue?, default: Bool, at pointer: JSONPointer) throws(RunnerError) -> Bool {
        guard let value else { return `default` }
        guard case .bool(let b) = value else { throw invalid("fail_fast must be true or false, got \(value.typeName)", at: pointer) }
        return b
    }
}
