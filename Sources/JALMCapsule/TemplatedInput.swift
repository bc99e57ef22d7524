import JALMCore
import JALMWire

/// What can be checked of an input before its templates are rendered: its required keys are present, it
/// has no unknown keys, and each member without a template obeys its property schema. The rest waits for
/// `CapsuleValidator.validateInput` after rendering.
enum TemplatedInput {
    static func check(_ input: JSONValue, schema: JSONValue, at pointer: JSONPointer) throws(RunnerError) {
        guard case .object(let members) = input else { return }
        if case .array(let required)? = schema["required"] {
            for case .string(let key) in required where members[key] == nil {
                throw invalid("\"\(key)\" is required", at: pointer)
            }
        }
        let properties = schema["properties"]?.objectValue ?? [:]
        for key in members.keys.sorted() {
            let member = members[key]!
            if let propertySchema = properties[key] {
                if !Template.containsTemplate(member) {
                    try JSONSchema.validate(member, against: propertySchema, at: pointer.appending(key))
                }
            } else if schema["additionalProperties"] == .bool(false) {
                throw invalid("unknown property \"\(key)\"", at: pointer.appending(key))
            }
        }
    }
}
