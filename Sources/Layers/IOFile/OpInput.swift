import JALMLayerKit
import JALMWire

/// io-file's getters on top of LayerKit's `OpInput`.
extension OpInput {
    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        try self.init(layer: "io-file", op: op, input, allowed: allowed)
    }

    func path(_ key: String, default fallback: String? = nil) throws(CallFailure) -> RelativePath {
        let text = try string(key, default: fallback)
        if let problem = RelativePath.problem(text) { throw invalid(key, problem) }
        return RelativePath(text)
    }

    func encoding() throws(CallFailure) -> ContentEncoding {
        let name = try string("encoding", default: ContentEncoding.text.rawValue)
        guard let e = ContentEncoding(rawValue: name) else { throw invalid("encoding", "must be \"text\" or \"base64\"") }
        return e
    }

    /// `max_bytes`: a call may lower the operator's bound (`layers.io-file.<setting>`), never raise it.
    func maxBytes(setting: String, _ bound: Int) throws(CallFailure) -> Int {
        try limit("max_bytes", setting: setting, bound)
    }

    /// An integer from 0 to `bound` (the layer setting named `setting`), `bound` when absent.
    func limit(_ key: String, setting: String, _ bound: Int, minimum: Int = 0) throws(CallFailure) -> Int {
        guard let value = fields[key], !value.isNull else { return bound }
        guard let i = value.intValue, let n = Int(exactly: i), n >= minimum else {
            throw invalid(key, "must be an integer of at least \(minimum)")
        }
        guard n <= bound else {
            throw CallFailure(
                .invalidInput,
                "io-file.\(op): \"\(key)\" is \(n), over the layer's bound of \(bound) (layers.io-file.\(setting) in jalmd.yml)",
                details: ["pointer": .string("/" + key), "setting": .string(setting), "bound": .int(Int64(bound))])
        }
        return n
    }
}
