import JALMCore
import JALMWire

/// A step input with its templates parsed once, when the capsule's plan is made, and rendered at every
/// attempt without scanning its strings again.
public indirect enum CompiledValue: Sendable {
    /// Nothing inside is a template: used as it is.
    case constant(JSONValue)
    /// A string holding templates, parsed; the pointer is where it sits, for errors.
    case template(String, [Template.Part], JSONPointer)
    case array([CompiledValue])
    case object([String: CompiledValue])
}

extension Template {
    /// `value` with every templated string parsed. A malformed template is `invalid_input` at its pointer.
    /// `locals`: the loop names in scope (inside a foreach).
    public static func compile(_ value: JSONValue, at pointer: JSONPointer, locals: Set<String> = [])
        throws(RunnerError) -> CompiledValue
    {
        guard containsTemplate(value) else { return .constant(value) }
        switch value {
        case .string(let s):
            return .template(s, try parse(s, at: pointer, locals: locals), pointer)
        case .array(let items):
            var out: [CompiledValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() { out.append(try compile(item, at: pointer.appending(i), locals: locals)) }
            return .array(out)
        case .object(let members):
            var out: [String: CompiledValue] = [:]
            out.reserveCapacity(members.count)
            for (key, member) in members { out[key] = try compile(member, at: pointer.appending(key), locals: locals) }
            return .object(out)
        default:
            return .constant(value)
        }
    }

    /// The value of `compiled` in `context`, as `render` would give for the original value.
    public static func render(_ compiled: CompiledValue, context: TemplateContext) throws(RunnerError) -> JSONValue {
        switch compiled {
        case .constant(let value):
            return value
        case .template(_, let parts, _):
            return try render(parts, context: context)
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try render(item, context: context)) }
            return .array(out)
        case .object(let members):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(members.count)
            for (key, member) in members { out[key] = try render(member, context: context) }
            return .object(out)
        }
    }
}
