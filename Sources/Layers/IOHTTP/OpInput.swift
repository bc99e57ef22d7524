import JALMLayerKit
import JALMWire

/// io-http's getters on top of LayerKit's `OpInput`.
extension OpInput {
    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        try self.init(layer: "io-http", op: op, input, allowed: allowed)
    }

    /// A scalar as the text that goes on the wire (query and form values).
    func scalarText(_ key: String, _ name: String, _ value: JSONValue) throws(CallFailure) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        default: throw invalid(key, "value of \"\(name)\" must be a string, number or boolean")
        }
    }
}
