import JALMWire

/// One op's input object: unknown keys are refused up front, and each getter names the field it checks.
struct OpInput {
    let op: String
    let fields: [String: JSONValue]

    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "render-html.\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": ""])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "render-html.\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string("/" + unknown)])
        }
        self.op = op
        self.fields = fields
    }

    func invalid(_ key: String, _ message: String) -> CallFailure {
        CallFailure(.invalidInput, "render-html.\(op): \"\(key)\" \(message)", details: ["pointer": .string("/" + key)])
    }

    func has(_ key: String) -> Bool { fields[key].map { !$0.isNull } ?? false }

    func string(_ key: String) throws(CallFailure) -> String? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        return s
    }

    func bool(_ key: String, default fallback: Bool) throws(CallFailure) -> Bool {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let b = value.boolValue else { throw invalid(key, "must be a boolean, not \(value.typeName)") }
        return b
    }

    /// A per-step limit: at most the layer's own (`ceiling`), which is also the default.
    func limit(_ key: String, ceiling: Int) throws(CallFailure) -> Int {
        guard let value = fields[key], !value.isNull else { return ceiling }
        guard let i = value.intValue, let n = Int(exactly: i), n >= 1, n <= ceiling else {
            throw CallFailure(.invalidInput,
                              "render-html.\(op): \"\(key)\" must be an integer from 1 to \(ceiling) (the layer's \(key))",
                              details: ["pointer": .string("/" + key), "limit": .int(Int64(ceiling))])
        }
        return n
    }

    func object(_ key: String) throws(CallFailure) -> [String: JSONValue]? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let o = value.objectValue else { throw invalid(key, "must be an object, not \(value.typeName)") }
        return o
    }
}
