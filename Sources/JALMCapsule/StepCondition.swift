import JALMCore
import JALMExpr
import JALMWire

/// A step's `when:` condition: what it sees, how it is checked before the run, how it is decided.
///
/// The condition is an expression of the `expr` language (docs/expr.md) over the root object
/// `{vars, steps: {ID: {state, output, error}}, execution: {id, intent}}`, where `steps` holds the steps
/// that came before: `state` is `"ok"` (with its `output`), `"skipped"` (with a null `output`), or the state
/// of a step that failed under `on_error: continue` (`"error"`, `"timed_out"`; a null `output` and its
/// `error`: `{code, message, retryable, …}`).
public enum StepCondition {
    /// The keys of the root object.
    public static let rootKeys: Set<String> = ["vars", "steps", "execution"]

    /// The object a condition is evaluated over.
    public static func root(capsule: Capsule, executionID: String, outputs: [String: JSONValue],
                            skipped: Set<String>, failed: [String: (state: String, error: JSONValue)] = [:],
                            vars: [String: JSONValue]? = nil, locals: [String: JSONValue] = [:]) -> JSONValue
    {
        var steps: [String: JSONValue] = [:]
        for (id, output) in outputs { steps[id] = ["state": "ok", "output": output] }
        for id in skipped { steps[id] = ["state": "skipped", "output": nil] }
        for (id, f) in failed { steps[id] = ["state": .string(f.state), "output": nil, "error": f.error] }
        var root = locals
        root["vars"] = .object(vars ?? capsule.vars)
        root["steps"] = .object(steps)
        root["execution"] = ["id": .string(executionID), "intent": .string(capsule.intent)]
        return .object(root)
    }

    /// True when the step should run. A condition that fails to evaluate, or gives anything but a
    /// boolean, fails the step: `invalid_input` (or `resource_exhausted` for a budget) at `/steps/N/when`.
    public static func holds(_ step: Step, over root: JSONValue, limits: ExprLimits = .standard) throws(RunnerError)
        -> Bool
    {
        guard let condition = step.when else { return true }
        return try holds(condition, of: step.id, at: step.pointer.appending("when"), over: root, limits: limits)
    }

    /// A condition of step `id` written at `at` (its `when`, or a switch case's).
    public static func holds(_ condition: Expression, of id: String, at: JSONPointer, over root: JSONValue,
                             limits: ExprLimits = .standard) throws(RunnerError) -> Bool
    {
        let value: JSONValue
        do { value = try condition.evaluate(over: root, limits: limits) } catch {
            throw RunnerError(error.code, "step \(id): when: \(error.message)", at: at)
        }
        guard case .bool(let b) = value else {
            throw RunnerError(.invalidInput, "step \(id): when must give a boolean, got \(value.typeName)", at: at)
        }
        return b
    }

    /// Before the run: every constant path the condition reads starts at a root key; `$.steps.ID` names
    /// an earlier step, and `$.vars.NAME` an existing var.
    static func check(_ step: Step, capsule: Capsule, earlier: Set<String>, setVars: Set<String> = [],
                      locals: Set<String> = []) throws(RunnerError) {
        guard let condition = step.when else { return }
        try check(condition, of: step.id, at: step.pointer.appending("when"), capsule: capsule, earlier: earlier,
                  setVars: setVars, locals: locals)
    }

    /// The same checks for any condition of step `id` written at `at`.
    static func check(_ condition: Expression, of id: String, at: JSONPointer, capsule: Capsule, earlier: Set<String>,
                      setVars: Set<String>, locals: Set<String>) throws(RunnerError) {
        for path in condition.rootPaths {
            guard let first = path.first else { continue }
            guard rootKeys.contains(first) || locals.contains(first) else {
                let more = locals.isEmpty ? "" : " and, here, " + locals.sorted().map { "$.\($0)" }.joined(separator: ", ")
                throw invalid("when reads $.\(first); a condition sees $.vars, $.steps and $.execution\(more)", at: at)
            }
            if first == "steps", path.count > 1, !earlier.contains(path[1]) {
                throw invalid("when reads $.steps.\(path[1]), which is not a step that runs before \(id)", at: at)
            }
            if first == "vars", path.count > 1, capsule.vars[path[1]] == nil, !setVars.contains(path[1]) {
                throw invalid("when reads $.vars.\(path[1]), and there is no var \"\(path[1])\"", at: at)
            }
        }
    }

    /// The first template in the step's input that refers to a step without an output (skipped, or failed
    /// under `on_error: continue`), as an error; nil if none. Referring to it is a clear error, not a
    /// silent null.
    public static func skippedReference(_ step: Step, skipped: Set<String>, failed: Set<String> = [],
                                        locals: Set<String> = []) -> RunnerError? {
        guard !skipped.isEmpty || !failed.isEmpty,
              let references = try? Template.references(in: step.templated.value, at: step.templated.pointer,
                                                        locals: locals)
        else { return nil }
        for reference in references {
            guard case .steps(let id) = reference.root else { continue }
            let why = skipped.contains(id) ? "was skipped (its when was false)"
                : failed.contains(id) ? "failed (on_error: continue)" : nil
            if let why {
                return invalid("template \(reference.text): step \"\(id)\" \(why), "
                    + "so it has no output; give this step a when that tests $.steps.\(id).state", at: reference.pointer)
            }
        }
        return nil
    }
}
