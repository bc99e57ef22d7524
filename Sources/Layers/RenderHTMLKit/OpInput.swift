import JALMLayerKit
import JALMWire

/// render-html's getters on top of LayerKit's `OpInput`.
extension OpInput {
    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        try self.init(layer: "render-html", op: op, input, allowed: allowed)
    }

    /// A per-step limit: at most the layer's own (`ceiling`), which is also the default.
    func limit(_ key: String, ceiling: Int) throws(CallFailure) -> Int {
        guard let value = value(key) else { return ceiling }
        guard let i = value.intValue, let n = Int(exactly: i), n >= 1, n <= ceiling else {
            throw CallFailure(.invalidInput,
                              "render-html.\(op): \"\(key)\" must be an integer from 1 to \(ceiling) (the layer's \(key))",
                              details: ["pointer": .string(pointer + "/" + key), "limit": .int(Int64(ceiling))])
        }
        return n
    }
}
