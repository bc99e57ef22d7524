import JALMWire

extension JSONSchema {
    /// Why a schema is not one this subset can apply, and where in the schema.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// Where in the schema, as a JSON Pointer.
        public var pointer: JSONPointer
        public var message: String
        public var description: String { "\(pointer.description.isEmpty ? "/" : pointer.description): \(message)" }
    }

    static let annotations: Set<String> = ["default", "description", "title", "examples", "format", "$schema",
                                           "$id", "$comment"]
    static let schemaKeywords: Set<String> = ["items", "additionalProperties", "not"]
    static let schemaListKeywords: Set<String> = ["anyOf", "oneOf", "allOf"]
    static let countKeywords: Set<String> = ["minItems", "maxItems", "minLength", "maxLength"]
    static let numberKeywords: Set<String> = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]
    static let typeNames: Set<String> = ["null", "boolean", "string", "number", "integer", "array", "object"]

    /// Checks that `schema` uses only the supported keywords, each well-formed, and compiles its patterns
    /// (so a bad pattern is found at catalog load, not on the first call).
    public static func checkSchema(_ schema: JSONValue, at pointer: JSONPointer = .root) throws(Problem) {
        switch schema {
        case .bool: return
        case .object(let keywords):
            for key in keywords.keys.sorted() {
                try checkKeyword(key, keywords[key]!, at: pointer.appending(key))
            }
        default:
            throw Problem(pointer: pointer, message: "a schema must be an object or a boolean")
        }
    }

    private static func checkKeyword(_ key: String, _ value: JSONValue, at pointer: JSONPointer) throws(Problem) {
        func require(_ ok: Bool, _ message: String) throws(Problem) {
            if !ok { throw Problem(pointer: pointer, message: message) }
        }
        switch key {
        case _ where annotations.contains(key): return
        case _ where schemaKeywords.contains(key): try checkSchema(value, at: pointer)
        case _ where schemaListKeywords.contains(key):
            guard case .array(let list) = value, !list.isEmpty else { return try require(false, "must be a non-empty array") }
            for (i, sub) in list.enumerated() { try checkSchema(sub, at: pointer.appending(i)) }
        case _ where countKeywords.contains(key):
            try require(value.intValue.map { $0 >= 0 } ?? false, "must be a non-negative integer")
        case _ where numberKeywords.contains(key):
            try require(value.doubleValue != nil, "must be a number")
        case "type":
            let names = value.stringValue.map { [$0] } ?? value.arrayValue?.compactMap(\.stringValue) ?? []
            try require(!names.isEmpty && names.allSatisfy(typeNames.contains)
                            && (value.arrayValue?.count ?? 1) == names.count,
                        "must be one of \(typeNames.sorted().joined(separator: ", ")) or a list of them")
        case "properties":
            guard case .object(let properties) = value else { return try require(false, "must be an object") }
            for name in properties.keys.sorted() { try checkSchema(properties[name]!, at: pointer.appending(name)) }
        case "required":
            try require(value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false, "must be an array of strings")
        case "enum":
            try require(value.arrayValue != nil, "must be an array")
        case "const":
            return
        case "pattern":
            guard let pattern = value.stringValue else { return try require(false, "must be a string") }
            try require(SchemaRegexCache.shared.regex(pattern) != nil, "\(pattern) is not a valid regular expression")
        default:
            throw Problem(pointer: pointer, message: "unsupported schema keyword \"\(key)\"")
        }
    }
}
