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

    func maxBytes() throws(CallFailure) -> Int {
        try int("max_bytes", default: IOFileLimits.defaultMaxBytes, in: 0...IOFileLimits.maxMaxBytes)
    }
}
