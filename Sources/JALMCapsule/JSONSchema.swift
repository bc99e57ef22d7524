import JALMCore
import JALMWire

/// A documented subset of JSON Schema (draft 2020-12 keywords) for step cards:
///
/// `type` (a name or a list; `integer` accepts whole doubles, `number` accepts integers), `properties`,
/// `required`, `additionalProperties` (bool or schema), `items`, `minItems`, `maxItems`, `enum`, `const`,
/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength` (in Unicode
/// scalars), `pattern` (unanchored), `anyOf`, `oneOf`, `allOf`, `not`. The annotations `default`,
/// `description`, `title`, `examples`, `format`, `$schema`, `$id`, `$comment` are ignored.
/// Any other keyword is refused by `checkSchema` so that a typo in a card cannot weaken it unseen.
public enum JSONSchema {
    /// Throws `invalid_input` for the first place where `instance` breaks `schema`; its pointer is
    /// `pointer` followed by the path inside the instance.
    public static func validate(_ instance: JSONValue, against schema: JSONValue, at pointer: JSONPointer)
        throws(RunnerError)
    {
        if let failure = SchemaEvaluator.firstFailure(instance, schema, at: pointer) {
            throw invalid(failure.message, at: failure.pointer)
        }
    }

    /// Whether `instance` satisfies `schema`.
    public static func isValid(_ instance: JSONValue, against schema: JSONValue) -> Bool {
        SchemaEvaluator.firstFailure(instance, schema, at: .root) == nil
    }

    /// `instance` with each absent top-level property that has a `default` in `schema.properties` filled in.
    public static func applyDefaults(_ instance: JSONValue, schema: JSONValue) -> JSONValue {
        guard case .object(var members) = instance, case .object(let properties)? = schema["properties"] else {
            return instance
        }
        for (key, property) in properties where members[key] == nil {
            if let value = property["default"] { members[key] = value }
        }
        return .object(members)
    }
}

/// Where and why an instance breaks a schema.
struct SchemaFailure: Equatable {
    var pointer: JSONPointer
    var message: String
}
