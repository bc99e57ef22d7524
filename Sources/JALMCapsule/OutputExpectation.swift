import JALMCore
import JALMExpr
import JALMWire

/// One entry of a step's `expected_outputs:`: what its output must look like at `path` for the step to
/// count as ok. `type`, `pattern` and `schema` are checked with the JSON Schema subset of the step cards;
/// `expr` is an expression of the expr language over `{value, output, vars, execution}` that must give
/// `true`. An entry may hold several; all must hold.
///
/// A broken expectation fails the step with `assertion_failed` (not retryable, unless the step's
/// `retry_on` lists it: then the step is called again, which is how a capsule polls until an output is
/// ready), pointing at the entry and naming the place in the output and what was expected.
public struct OutputExpectation: Sendable, Hashable {
    /// Where in the output, as a JSON Pointer (`""`, the default, is the whole output).
    public var path: JSONPointer
    /// `type`, `pattern` and `schema` folded into one schema; nil when the entry has none of them.
    public var schema: JSONValue?
    public var expr: Expression?
    /// The author's words for a failure, shown before the reason.
    public var message: String?
    /// Where the entry is in the submitted document: `/steps/N/expected_outputs/K`.
    public var pointer: JSONPointer

    /// The keys an entry may have.
    public static let keys: Set<String> = ["path", "type", "pattern", "schema", "expr", "message"]
    /// The names an `expr` sees under `$`.
    public static let rootKeys: Set<String> = ["value", "output", "vars", "execution"]

    /// Checks `output` against the entry: nil when it holds, else the step's error.
    public func failure(in output: JSONValue, step: Step, vars: [String: JSONValue], execution: JSONValue,
                        limits: ExprLimits = .standard) -> RunnerError? {
        let place = path.description.isEmpty ? "the output" : "output \(path)"
        guard let value = path.resolve(in: output) else {
            return failed(step, "\(place) is missing", value: nil, path: path)
        }
        if let schema, let problem = SchemaEvaluator.firstFailure(value, schema, at: path) {
            let at = problem.pointer.description.isEmpty ? "the output" : "output \(problem.pointer)"
            return failed(step, "\(at) \(problem.message)", value: value, path: problem.pointer)
        }
        guard let expr else { return nil }
        let root: JSONValue = ["value": value, "output": output, "vars": .object(vars), "execution": execution]
        let result: JSONValue
        do { result = try expr.evaluate(over: root, limits: limits) } catch {
            return RunnerError(error.code, "step \(step.id): expected_outputs: \(error.message)", at: pointer.appending("expr"))
        }
        guard case .bool(let holds) = result else {
            return RunnerError(.invalidInput, "step \(step.id): expected_outputs expr must give a boolean, got \(result.typeName)",
                               at: pointer.appending("expr"))
        }
        return holds ? nil : failed(step, "\(place) does not satisfy \(expr.source)", value: value, path: path)
    }

    /// The `assertion_failed` error, with the value that broke it when it is small enough to show.
    private func failed(_ step: Step, _ reason: String, value: JSONValue?, path: JSONPointer) -> RunnerError {
        var details: [String: JSONValue] = ["path": .string(path.description)]
        if let value {
            let text = JSONWriter.string(value, sortedKeys: true)
            details["value"] = text.utf8.count <= Self.maxShownValueBytes ? value : .string("(\(value.typeName), \(text.utf8.count) bytes)")
        }
        let prefix = message.map { "\($0): " } ?? ""
        return RunnerError(.assertionFailed, "\(prefix)\(reason)", at: pointer, details: .object(details))
    }

    /// A value larger than this (as JSON) is named by its type and size in the error, not copied into it.
    public static let maxShownValueBytes = 512
}

/// The rules for `expected_outputs:`, checked at submit so that a malformed entry is a 422 with its place.
enum OutputExpectationParser {
    static func parse(_ value: JSONValue, at pointer: JSONPointer) throws(RunnerError)
        -> [OutputExpectation]
    {
        guard case .array(let entries) = value else {
            throw invalid("expected_outputs must be a list of expectations, got \(value.typeName)", at: pointer)
        }
        var out: [OutputExpectation] = []
        for (k, entry) in entries.enumerated() {
            out.append(try parseEntry(entry, at: pointer.appending(k)))
        }
        return out
    }

    static func parseEntry(_ value: JSONValue, at pointer: JSONPointer) throws(RunnerError) -> OutputExpectation {
        guard case .object(let o) = value else {
            throw invalid("an expectation must be an object with path and type, pattern, schema or expr, got \(value.typeName)",
                          at: pointer)
        }
        for key in o.keys.sorted() where !OutputExpectation.keys.contains(key) {
            let known = OutputExpectation.keys.sorted().joined(separator: ", ")
            throw invalid("unknown expectation key \"\(key)\"; an expectation has \(known)", at: pointer.appending(key))
        }
        guard o["type"] != nil || o["pattern"] != nil || o["schema"] != nil || o["expr"] != nil else {
            throw invalid("an expectation needs at least one of type, pattern, schema or expr", at: pointer)
        }
        return OutputExpectation(path: try path(o["path"], at: pointer.appending("path")),
                                 schema: try schema(o, at: pointer), expr: try expr(o["expr"], at: pointer.appending("expr")),
                                 message: try message(o["message"], at: pointer.appending("message")), pointer: pointer)
    }

    static func path(_ value: JSONValue?, at pointer: JSONPointer) throws(RunnerError) -> JSONPointer {
        guard let value else { return .root }
        guard case .string(let text) = value, let path = JSONPointer(parsing: text) else {
            throw invalid("path must be a JSON Pointer into the output, such as \"/rows\" or \"\" for all of it", at: pointer)
        }
        return path
    }

    /// `type`, `pattern` and `schema` as one schema (`allOf` when there are several), checked as the step
    /// cards' schemas are.
    static func schema(_ o: [String: JSONValue], at pointer: JSONPointer) throws(RunnerError) -> JSONValue? {
        var parts: [JSONValue] = []
        if let type = o["type"] { parts.append(.object(["type": type])) }
        if let pattern = o["pattern"] { parts.append(["type": "string", "pattern": pattern]) }
        if let schema = o["schema"] { parts.append(schema) }
        for (key, part) in zip(["type", "pattern", "schema"].filter { o[$0] != nil }, parts) {
            do { try JSONSchema.checkSchema(part) } catch {
                let inner = key == "schema" ? error.pointer : .root
                throw invalid("\(key): \(error.message)", at: pointer.appending(key) + inner)
            }
        }
        switch parts.count {
        case 0: return nil
        case 1: return parts[0]
        default: return ["allOf": .array(parts)]
        }
    }

    static func expr(_ value: JSONValue?, at pointer: JSONPointer) throws(RunnerError) -> Expression? {
        guard let value else { return nil }
        guard case .string(let source) = value else {
            throw invalid("expr must be an expression in a string, got \(value.typeName)", at: pointer)
        }
        let expression: Expression
        do { expression = try Expression(parsing: source) } catch { throw invalid("expr: \(error.message)", at: pointer) }
        for path in expression.rootPaths {
            guard let first = path.first, !OutputExpectation.rootKeys.contains(first) else { continue }
            throw invalid("expr reads $.\(first); an expectation sees $.value, $.output, $.vars and $.execution", at: pointer)
        }
        return expression
    }

    static func message(_ value: JSONValue?, at pointer: JSONPointer) throws(RunnerError) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value, !text.isEmpty else {
            throw invalid("message must be a non-empty string, got \(value.typeName)", at: pointer)
        }
        return text
    }
}
