import JALMCore
import JALMExpr
import JALMWire

/// The rules for one entry of `steps`.
enum StepParser {
    static let keys: Set<String> = Set(["id", "layer", "op", "input", "timeout", "retry", "when", "on_error", "expected_outputs",
                                        "compensate", "abort", "set"]).union(BlockParser.keys)
    /// The keys of a `set` step.
    static let setStepKeys: Set<String> = ["id", "when", "set"]
    /// The keys of an `abort:` step, which calls no op.
    static let abortStepKeys: Set<String> = ["id", "when", "abort"]
    /// The keys of each kind of control step.
    static var controlStepKeys: [String: Set<String>] {
        ["abort": abortStepKeys, "set": setStepKeys, "switch": BlockParser.switchStepKeys,
         "foreach": BlockParser.foreachStepKeys, "parallel": BlockParser.parallelStepKeys]
    }
    /// The keys of `abort:`.
    static let abortKeys: Set<String> = ["message", "code"]
    /// Keys the design names for later issues: refused with a clear message rather than ignored.
    static let reservedKeys: Set<String> = ["name", "description"]
    /// The keys of `compensate:`: a call like a step's, without an id, a condition or error handling.
    static let compensationKeys: Set<String> = ["layer", "op", "input", "timeout", "retry"]

    /// A list of steps: `steps:` of the capsule or of a block (`depth` blocks deep).
    static func sequence(_ value: JSONValue, defaultOps: [String: String], depth: Int, at pointer: JSONPointer)
        throws(RunnerError) -> [Step]
    {
        guard case .array(let items) = value else {
            throw invalid("steps must be an array, got \(value.typeName)", at: pointer)
        }
        guard !items.isEmpty else { throw invalid("steps must not be empty", at: pointer) }
        guard items.count <= CapsuleParser.maxSteps else {
            throw invalid("a capsule has at most \(CapsuleParser.maxSteps) steps; this list has \(items.count)", at: pointer)
        }
        var steps: [Step] = []
        for (i, item) in items.enumerated() {
            steps.append(try parse(item, index: i, defaultOps: defaultOps, depth: depth, at: pointer.appending(i)))
        }
        return steps
    }

    static func parse(_ value: JSONValue, index: Int, defaultOps: [String: String] = [:], depth: Int = 0,
                      at pointer: JSONPointer) throws(RunnerError) -> Step
    {
        guard case .object(let object) = value else {
            throw invalid("a step must be an object, got \(value.typeName)", at: pointer)
        }
        try checkKeys(object, at: pointer)
        if let kind = BlockParser.kind(of: object) {
            return try BlockParser.parse(object, kind: kind, index: index, defaultOps: defaultOps, depth: depth, at: pointer)
        }
        if let abort = object["abort"] { return try abortStep(object, abort, index: index, at: pointer) }
        if let set = object["set"] { return try setStep(object, set, index: index, at: pointer) }
        for key in BlockParser.companionKeys.sorted() where object[key] != nil {
            throw invalid("\(key) belongs to a foreach step (or fail_fast to a parallel one); this step has no foreach",
                          at: pointer.appending(key))
        }
        let input = object["input"] ?? .object([:])
        guard case .object = input else {
            throw invalid("input must be an object, got \(input.typeName)", at: pointer.appending("input"))
        }
        let layer = try name("layer", object, at: pointer)
        var step = Step(
            index: index,
            id: try id(object, at: pointer),
            layer: layer,
            op: try op(object, layer: layer, defaultOps: defaultOps, at: pointer),
            input: input,
            timeoutMs: try object["timeout"].map { v throws(RunnerError) in
                try duration(v, field: "timeout", at: pointer.appending("timeout"))
            },
            retry: try object["retry"].map { v throws(RunnerError) in
                try RetryParser.parse(v, at: pointer.appending("retry"))
            },
            when: try object["when"].map { v throws(RunnerError) in try condition(v, at: pointer.appending("when")) },
            pointer: pointer)
        if let value = object["on_error"] {
            step.onError = try onError(value, defaultOps: defaultOps, depth: depth, at: pointer.appending("on_error"))
        }
        if let value = object["expected_outputs"] {
            step.expectedOutputs = try OutputExpectationParser.parse(value, at: pointer.appending("expected_outputs"))
        }
        if let value = object["compensate"] {
            step.compensation = try compensation(value, defaultOps: defaultOps, at: pointer.appending("compensate"))
        }
        return step
    }

    /// `compensate: {layer, op?, input?, timeout?, retry?}`, read with a step's rules for those keys.
    static func compensation(_ value: JSONValue, defaultOps: [String: String], at pointer: JSONPointer)
        throws(RunnerError) -> Compensation
    {
        guard case .object(var object) = value else {
            throw invalid("compensate must be an op call {layer, op, input}, got \(value.typeName)", at: pointer)
        }
        for key in object.keys.sorted() where !compensationKeys.contains(key) {
            throw invalid("unknown compensate key \"\(key)\"; compensate has \(compensationKeys.sorted().joined(separator: ", "))",
                          at: pointer.appending(key))
        }
        object["id"] = "compensate"
        let call = try parse(.object(object), index: 0, defaultOps: defaultOps, at: pointer)
        return Compensation(layer: call.layer, op: call.op, input: call.input, timeoutMs: call.timeoutMs,
                            retry: call.retry, pointer: pointer)
    }

    /// The part every control step shares: only `id`, `when` and its own key; no layer, op or input.
    static func controlStep(_ object: [String: JSONValue], kind: String, index: Int, at pointer: JSONPointer)
        throws(RunnerError) -> Step
    {
        let allowed = controlStepKeys[kind] ?? ["id", "when", kind]
        for key in object.keys.sorted() where !allowed.contains(key) {
            let article = kind.first.map { "aeiou".contains($0) } == true ? "an" : "a"
            let has = allowed.subtracting([kind]).sorted().joined(separator: ", ")
            let belongs = BlockParser.keys.contains(key) ? "" : "; \(key) belongs to a step that calls an op"
            throw invalid("\(article) \(kind) step has \(has) and \(kind)\(belongs)", at: pointer.appending(key))
        }
        return Step(index: index, id: try id(object, at: pointer), layer: "", op: "",
                    when: try object["when"].map { v throws(RunnerError) in try condition(v, at: pointer.appending("when")) },
                    pointer: pointer)
    }

    /// `{id, when?, abort: {message, code?}}`: a step that ends the execution with its error.
    static func abortStep(_ object: [String: JSONValue], _ value: JSONValue, index: Int, at pointer: JSONPointer)
        throws(RunnerError) -> Step
    {
        var step = try controlStep(object, kind: "abort", index: index, at: pointer)
        let at = pointer.appending("abort")
        guard case .object(let spec) = value else {
            throw invalid("abort must be an object {message, code}, got \(value.typeName)", at: at)
        }
        for key in spec.keys.sorted() where !abortKeys.contains(key) {
            throw invalid("unknown abort key \"\(key)\"; abort has code, message", at: at.appending(key))
        }
        guard case .string(let message)? = spec["message"], !message.isEmpty else {
            throw invalid("abort needs a message, a non-empty string", at: at.appending("message"))
        }
        var code = ErrorCode.conflict
        if let value = spec["code"] {
            let allowed = ErrorCode.allCases.filter { $0 != .unknown }
            guard let text = value.stringValue, let c = ErrorCode(rawValue: text), c != .unknown else {
                throw invalid("code must be one of \(allowed.map(\.rawValue).joined(separator: ", "))",
                              at: at.appending("code"))
            }
            code = c
        }
        step.abort = AbortSpec(message: message, code: code)
        return step
    }

    /// `{id, when?, set: {NAME: value, ...}}`: vars for the steps after it.
    static func setStep(_ object: [String: JSONValue], _ value: JSONValue, index: Int, at pointer: JSONPointer)
        throws(RunnerError) -> Step
    {
        var step = try controlStep(object, kind: "set", index: index, at: pointer)
        let at = pointer.appending("set")
        guard case .object(let values) = value, !values.isEmpty else {
            throw invalid("set must be an object of var names and values, such as {total: \"{{ vars.n * 2 }}\"}", at: at)
        }
        for name in values.keys.sorted() where !isValidID(name) {
            throw invalid("var name \"\(name)\" must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$", at: at.appending(name))
        }
        step.set = values
        return step
    }

    /// `on_error: fail | continue | {steps: [...]}`; a fallback sequence counts as one level of nesting, as a
    /// block's steps do.
    static func onError(_ value: JSONValue, defaultOps: [String: String], depth: Int, at pointer: JSONPointer)
        throws(RunnerError) -> OnError
    {
        if case .object(let object) = value {
            for key in object.keys.sorted() where key != "steps" {
                throw invalid("unknown on_error key \"\(key)\"; a fallback is {steps: [...]}", at: pointer.appending(key))
            }
            guard let steps = object["steps"] else {
                throw invalid("a fallback is {steps: [...]}: the steps that run instead when the step fails", at: pointer)
            }
            guard depth < BlockParser.maxDepth else {
                throw invalid("blocks and fallbacks may be nested at most \(BlockParser.maxDepth) deep",
                              at: pointer.appending("steps"))
            }
            return .fallback(try sequence(steps, defaultOps: defaultOps, depth: depth + 1, at: pointer.appending("steps")))
        }
        switch value.stringValue {
        case "fail": return .fail
        case "continue": return .continue
        default: throw invalid("on_error must be \"fail\", \"continue\" or a fallback {steps: [...]}", at: pointer)
        }
    }

    /// `when:` parsed now, so that a malformed condition is a 422 before anything runs, with its position.
    static func condition(_ value: JSONValue, at pointer: JSONPointer) throws(RunnerError) -> Expression {
        guard case .string(let source) = value else {
            throw invalid("when must be an expression in a string, got \(value.typeName)", at: pointer)
        }
        do {
            return try Expression(parsing: source)
        } catch {
            throw invalid("when: \(error.message)", at: pointer)
        }
    }

    static func checkKeys(_ object: [String: JSONValue], at pointer: JSONPointer) throws(RunnerError) {
        for key in object.keys.sorted() where !keys.contains(key) {
            if reservedKeys.contains(key) {
                throw invalid("step key \"\(key)\" is not supported yet", at: pointer.appending(key))
            }
            let known = keys.sorted().joined(separator: ", ")
            throw invalid("unknown step key \"\(key)\"; a step has \(known)", at: pointer.appending(key))
        }
    }

    /// `op`, or the layer's default op when the step names none.
    static func op(_ object: [String: JSONValue], layer: String, defaultOps: [String: String], at pointer: JSONPointer)
        throws(RunnerError) -> String
    {
        if object["op"] == nil, let op = defaultOps[layer] { return op }
        if object["op"] == nil {
            let layers = defaultOps.keys.sorted().joined(separator: ", ")
            throw invalid("op is required: layer \"\(layer)\" has no default op"
                          + (layers.isEmpty ? "" : " (layers with one: \(layers))"), at: pointer.appending("op"))
        }
        return try name("op", object, at: pointer)
    }

    static func id(_ object: [String: JSONValue], at pointer: JSONPointer) throws(RunnerError) -> String {
        let text = try name("id", object, at: pointer)
        guard isValidID(text) else {
            throw invalid("step id \"\(text)\" must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$", at: pointer.appending("id"))
        }
        return text
    }

    /// `^[A-Za-z_][A-Za-z0-9_-]{0,63}$`, checked by hand: ids are checked on every submission.
    static func isValidID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 64, isLetter(first) || first == UInt8(ascii: "_") else {
            return false
        }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func name(_ key: String, _ object: [String: JSONValue], at pointer: JSONPointer) throws(RunnerError)
        -> String
    {
        guard let value = object[key] else { throw invalid("\(key) is required", at: pointer.appending(key)) }
        guard case .string(let text) = value, !text.isEmpty else {
            throw invalid("\(key) must be a non-empty string, got \(value.typeName)", at: pointer.appending(key))
        }
        return text
    }

    /// A duration that must be positive and at most a day.
    static func duration(_ value: JSONValue, field: String, at pointer: JSONPointer) throws(RunnerError) -> Int64 {
        guard let ms = DurationText.parseMilliseconds(value) else {
            throw invalid("\(field) must be a number of seconds or a text such as \"500ms\", \"30s\", \"5m\", \"1h\"",
                          at: pointer)
        }
        guard ms > 0, ms <= DurationText.maxMilliseconds else {
            throw invalid("\(field) must be more than 0 and at most 24h", at: pointer)
        }
        return ms
    }
}
