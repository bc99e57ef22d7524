import JALMWire

/// The top-level fields of an op's input JSON Schema, as `jalm ops LAYER` lists them.
struct SchemaField {
    var name: String
    var type: String
    var required: Bool
    var description: String

    /// One field per property, required ones first, each group in name order.
    static func fields(of schema: JSONValue) -> [SchemaField] {
        let properties = schema["properties"]?.objectValue ?? [:]
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        return properties.map { name, property in
            var description = property["description"]?.stringValue ?? property["title"]?.stringValue ?? ""
            if let value = property["default"] {
                description += (description.isEmpty ? "" : " ") + "(default \(Format.inline(value)))"
            }
            return SchemaField(name: name, type: typeName(property), required: required.contains(name),
                               description: description)
        }.sorted { ($0.required ? 0 : 1, $0.name) < ($1.required ? 0 : 1, $1.name) }
    }

    /// `string`, `integer|null`, `array<string>`, `enum(GET|POST)`, `object`, `any`.
    static func typeName(_ schema: JSONValue) -> String {
        if let values = schema["enum"]?.arrayValue {
            return "enum(" + values.map(Format.inline).joined(separator: "|") + ")"
        }
        if let constant = schema["const"] { return "const \(Format.inline(constant))" }
        for key in ["oneOf", "anyOf"] {
            if let options = schema[key]?.arrayValue { return options.map(typeName).joined(separator: "|") }
        }
        let types: [String] = switch schema["type"] {
        case .string(let t)?: [t]
        case .array(let ts)?: ts.compactMap(\.stringValue)
        default: []
        }
        if types.isEmpty { return schema["properties"] != nil ? "object" : "any" }
        return types.map { t in
            if t == "array", let items = schema["items"] { return "array<\(typeName(items))>" }
            return t
        }.joined(separator: "|")
    }
}
