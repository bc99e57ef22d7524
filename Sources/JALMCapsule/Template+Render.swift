import JALMCore
import JALMWire

extension Template {
    /// `value` with every template replaced from `context`. A value without `{{` is returned as it is,
    /// without being rebuilt. A reference to an output, var or path that is not there is `invalid_input`
    /// naming the template, at the pointer of its string.
    public static func render(_ value: JSONValue, context: TemplateContext, at pointer: JSONPointer)
        throws(RunnerError) -> JSONValue
    {
        try renderIfChanged(value, context: context, at: pointer) ?? value
    }

    /// The rendered value, or nil when nothing inside `value` is a template (so callers keep the original).
    private static func renderIfChanged(_ value: JSONValue, context: TemplateContext, at pointer: JSONPointer)
        throws(RunnerError) -> JSONValue?
    {
        switch value {
        case .string(let s) where TemplateScanner.mayContainTemplate(s):
            return try renderString(s, context: context, at: pointer)
        case .array(var items):
            var changed = false
            for i in items.indices {
                if let r = try renderIfChanged(items[i], context: context, at: pointer.appending(i)) {
                    items[i] = r
                    changed = true
                }
            }
            return changed ? .array(items) : nil
        case .object(var members):
            var changed = false
            for (key, member) in members {
                if let r = try renderIfChanged(member, context: context, at: pointer.appending(key)) {
                    members[key] = r
                    changed = true
                }
            }
            return changed ? .object(members) : nil
        default:
            return nil
        }
    }

    private static func renderString(_ s: String, context: TemplateContext, at pointer: JSONPointer)
        throws(RunnerError) -> JSONValue
    {
        try render(try parse(s, at: pointer), context: context)
    }

    /// Parsed parts of a string, rendered: one reference alone gives its value, type and all; anything
    /// else gives the text with each reference interpolated.
    static func render(_ parts: [Part], context: TemplateContext) throws(RunnerError) -> JSONValue {
        if parts.count == 1, case .reference(let only) = parts[0] {
            return try resolve(only, in: context)
        }
        if parts.count == 1, case .computed(let only) = parts[0] {
            return try only.evaluate(in: context)
        }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .reference(let reference): out += interpolated(try resolve(reference, in: context))
            case .computed(let computed): out += interpolated(try computed.evaluate(in: context))
            }
        }
        return .string(out)
    }

    private static func interpolated(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return JSONWriter.string(value, sortedKeys: true)
    }

    /// The value a reference names in `context`.
    public static func resolve(_ reference: TemplateReference, in context: TemplateContext) throws(RunnerError)
        -> JSONValue
    {
        var current: JSONValue
        var walked: String
        switch reference.root {
        case .steps(let id):
            guard let output = context.stepOutputs[id] else {
                throw invalid("template \(reference.text): step \"\(id)\" has no output", at: reference.pointer)
            }
            current = output
            walked = "steps.\(id).output"
        case .vars(let name):
            guard let value = context.vars[name] else {
                throw invalid("template \(reference.text): there is no var \"\(name)\"", at: reference.pointer)
            }
            current = value
            walked = "vars.\(name)"
        case .local(let name):
            guard let value = context.locals[name] else {
                throw invalid("template \(reference.text): \(name) is read only inside a foreach", at: reference.pointer)
            }
            current = value
            walked = name
        case .secrets(let name):
            guard let value = context.secrets[name] else {
                throw invalid("template \(reference.text): secret \"\(name)\" is not available", at: reference.pointer)
            }
            current = .string(value)
            walked = "secrets.\(name)"
        }
        for component in reference.path {
            guard let next = step(current, component) else {
                throw invalid("template \(reference.text): \(walked) (\(current.typeName)) has no \(component)",
                              at: reference.pointer)
            }
            current = next
            walked += component.description
        }
        return current
    }

    private static func step(_ value: JSONValue, _ component: PathComponent) -> JSONValue? {
        switch component {
        case .key(let key): value[key]
        case .index(let i): value[i]
        }
    }
}
