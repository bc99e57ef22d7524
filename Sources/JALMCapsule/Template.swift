import JALMCore
import JALMWire

/// `{{ steps.ID.output.PATH }}` and `{{ vars.NAME.PATH }}` inside step inputs.
///
/// A string that is exactly one template becomes the referenced value, type and all; a template inside
/// longer text is interpolated (strings as they are, other values as compact JSON). Templates are read in
/// values only, never in object keys.
public enum Template {
    /// Whether any string inside `value` holds `{{`.
    public static func containsTemplate(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): TemplateScanner.mayContainTemplate(s)
        case .array(let items): items.contains(where: containsTemplate)
        case .object(let members): members.values.contains(where: containsTemplate)
        default: false
        }
    }

    /// Every template inside `value`, parsed but not resolved; `pointer` is where `value` sits.
    /// A malformed template is `invalid_input` at the pointer of its string.
    /// `locals`: the loop names in scope where `value` sits (inside a foreach).
    public static func references(in value: JSONValue, at pointer: JSONPointer, locals: Set<String> = [])
        throws(RunnerError) -> [TemplateReference]
    {
        var found: [TemplateReference] = []
        try collect(value, at: pointer, locals: locals, into: &found)
        return found
    }

    private static func collect(_ value: JSONValue, at pointer: JSONPointer, locals: Set<String>,
                                into found: inout [TemplateReference]) throws(RunnerError)
    {
        switch value {
        case .string(let s) where TemplateScanner.mayContainTemplate(s):
            for part in try parse(s, at: pointer, locals: locals) {
                switch part {
                case .reference(let reference): found.append(reference)
                case .computed(let computed): found += computed.references
                case .literal: break
                }
            }
        case .array(let items):
            for (i, item) in items.enumerated() { try collect(item, at: pointer.appending(i), locals: locals, into: &found) }
        case .object(let members):
            for key in members.keys.sorted() {
                try collect(members[key]!, at: pointer.appending(key), locals: locals, into: &found)
            }
        default:
            break
        }
    }

    /// A piece of a templated string: text as written, or a reference to resolve.
    public enum Part: Sendable {
        case literal(Substring)
        case reference(TemplateReference)
        /// An expression (`{{ len(steps.q.output.rows) }}`).
        case computed(ComputedTemplate)
    }

    static func parse(_ s: String, at pointer: JSONPointer, locals: Set<String> = []) throws(RunnerError) -> [Part] {
        let scanned: [TemplateScanner.Part]
        switch TemplateScanner.parts(s) {
        case .success(let parts): scanned = parts
        case .failure(let error): throw invalid("malformed template in \"\(s)\": \(error.message)", at: pointer)
        }
        var parts: [Part] = []
        for part in scanned {
            switch part {
            case .literal(let text):
                parts.append(.literal(text))
            case .expression(let expression, let text):
                // `{{ '{{' }}`: a quoted text is itself, the way to write a literal `{{` or `}}`.
                if let literal = TemplateScanner.quotedLiteral(expression) {
                    parts.append(.literal(literal))
                    continue
                }
                switch TemplateExpression.parse(expression, locals: locals) {
                case .success(let parsed):
                    parts.append(.reference(TemplateReference(
                        pointer: pointer, root: parsed.root, path: parsed.path, text: String(text))))
                case .failure(let error):
                    // A plain path keeps the path's message; anything else is read as an expression.
                    guard !TemplateExpression.looksLikePath(expression) else {
                        throw invalid("malformed template \(text): \(error.message)", at: pointer)
                    }
                    parts.append(.computed(try ComputedTemplate.parse(expression, text: String(text), at: pointer,
                                                                      locals: locals)))
                }
            }
        }
        return parts
    }
}
