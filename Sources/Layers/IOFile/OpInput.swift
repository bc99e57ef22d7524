import JALMWire

/// One op's input object: unknown keys are refused up front, and each getter names the field it checks.
struct OpInput {
    let op: String
    let fields: [String: JSONValue]

    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "io-file.\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": ""])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "io-file.\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string("/" + unknown)])
        }
        self.op = op
        self.fields = fields
    }

    func invalid(_ key: String, _ message: String) -> CallFailure {
        CallFailure(.invalidInput, "io-file.\(op): \"\(key)\" \(message)", details: ["pointer": .string("/" + key)])
    }

    func string(_ key: String, default fallback: String? = nil) throws(CallFailure) -> String {
        guard let value = fields[key], !value.isNull else {
            if let fallback { return fallback }
            throw invalid(key, "is required")
        }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        return s
    }

    /// The string at `key`, or nil when absent or null.
    func optionalString(_ key: String) throws(CallFailure) -> String? {
        guard let value = fields[key], !value.isNull else { return nil }
        return try string(key)
    }

    func bool(_ key: String, default fallback: Bool) throws(CallFailure) -> Bool {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let b = value.boolValue else { throw invalid(key, "must be a boolean, not \(value.typeName)") }
        return b
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(CallFailure) -> Int {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
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
