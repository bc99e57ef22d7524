import JALMCore
import JALMExpr
import JALMWire

/// A template whose braces hold an expression of the expr language rather than a plain path:
/// `{{ len(steps.q.output.rows) }}`, `{{ vars.total * 1.2 }}`, `{{ coalesce(vars.name, 'guest') }}`. The
/// names `vars` and `steps` read as in a path (`steps.ID.output`; `$.vars` is the same). Parsed once with the
/// capsule; evaluated with the expr language's budgets at each render.
public struct ComputedTemplate: Sendable {
    public var expression: Expression
    /// What it reads, for the checks made before anything runs (earlier steps, existing vars).
    public var references: [TemplateReference]
    /// As written, braces included.
    public var text: String
    public var pointer: JSONPointer

    /// The roots a template expression reads.
    static let globals: Set<String> = ["vars", "steps"]

    /// `body` parsed as an expression, or the reason it is not a template.
    static func parse(_ body: Substring, text: String, at pointer: JSONPointer, locals: Set<String> = [])
        throws(RunnerError) -> ComputedTemplate
    {
        let expression: Expression
        do { expression = try Expression(parsing: String(body), globals: globals.union(locals)) } catch {
            throw invalid("malformed template \(text): \(error.message)", at: pointer)
        }
        var references: [TemplateReference] = []
        for path in expression.rootPaths {
            if let first = path.first, locals.contains(first) {
                references.append(TemplateReference(pointer: pointer, root: .local(first), path: [], text: text))
                continue
            }
            references.append(try reference(path, text: text, at: pointer))
        }
        return ComputedTemplate(expression: expression, references: references, text: text, pointer: pointer)
    }

    private static func reference(_ path: [String], text: String, at pointer: JSONPointer) throws(RunnerError)
        -> TemplateReference
    {
        switch path.first {
        case "vars" where path.count >= 2:
            return TemplateReference(pointer: pointer, root: .vars(path[1]), path: [], text: text)
        case "steps" where path.count >= 3 && path[2] == "output":
            return TemplateReference(pointer: pointer, root: .steps(path[1]), path: [], text: text)
        case "steps" where path.count >= 3:
            throw invalid("template \(text) reads steps.\(path[1]).\(path[2]); a template reads steps.ID.output "
                          + "(a when condition reads state and error)", at: pointer)
        case "vars", "steps":
            throw invalid("template \(text) reads \(path.joined(separator: ".")) as a whole; name a var "
                          + "(vars.NAME) or a step's output (steps.ID.output)", at: pointer)
        default:
            throw invalid("template \(text) reads $.\(path.first ?? ""); a template expression reads vars.NAME and "
                          + "steps.ID.output", at: pointer)
        }
    }

    /// The value in `context`; a failure is the step's `invalid_input` (or `resource_exhausted` for a
    /// budget) at the string that holds the template.
    func evaluate(in context: TemplateContext) throws(RunnerError) -> JSONValue {
        var steps: [String: JSONValue] = [:]
        for (id, output) in context.stepOutputs { steps[id] = ["output": output] }
        var root: [String: JSONValue] = context.locals
        root["vars"] = .object(context.vars)
        root["steps"] = .object(steps)
        do { return try expression.evaluate(over: .object(root)) } catch {
            throw RunnerError(error.code, "template \(text): \(error.message)", at: pointer)
        }
    }
}
