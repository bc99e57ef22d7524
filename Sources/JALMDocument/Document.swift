import JALMCore
import JALMWire

/// A capsule document as submitted: JSON or YAML bytes turned into one `JSONValue`.
public enum Document {
    /// Deepest nesting of arrays and objects accepted, for JSON and YAML alike.
    public static let maxDepth = JSONParser.defaultMaxDepth
    /// Most YAML nodes one document may expand to once its aliases are followed (billion laughs).
    public static let maxYAMLNodes = 1_000_000

    /// The two syntaxes a capsule may be written in.
    public enum Syntax: Sendable, Equatable {
        case json
        case yaml
    }

    /// Parses `bytes` as JSON or YAML, as `syntax(of:contentType:)` decides.
    ///
    /// Every failure is `invalid_input` at pointer `""`, with the byte offset (JSON) or line and column (YAML).
    public static func parse(_ bytes: [UInt8], contentType: String?) throws(RunnerError) -> JSONValue {
        switch syntax(of: bytes, contentType: contentType) {
        case .json: return try parseJSON(bytes)
        case .yaml: return try YAMLDocument.parse(bytes)
        }
    }

    /// JSON when the content type names JSON; YAML when it names YAML; otherwise JSON when the first
    /// non-space byte opens an object or array, YAML for anything else.
    public static func syntax(of bytes: [UInt8], contentType: String?) -> Syntax {
        let type = contentType?.lowercased() ?? ""
        if type.contains("json") { return .json }
        if type.contains("yaml") || type.contains("yml") { return .yaml }
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .json : .yaml
    }

    static func parseJSON(_ bytes: [UInt8]) throws(RunnerError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw RunnerError(.invalidInput, "not valid JSON: \(error.message) at byte \(error.offset)", at: .root)
        }
    }
}
