import JALMWire

/// One op's input object: unknown keys are refused up front, and each getter names the field it checks.
struct OpInput {
    let op: String
    let fields: [String: JSONValue]

    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "io-http.\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": ""])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "io-http.\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string("/" + unknown)])
        }
        self.op = op
        self.fields = fields
    }

    func invalid(_ key: String, _ message: String) -> CallFailure {
        CallFailure(.invalidInput, "io-http.\(op): \"\(key)\" \(message)", details: ["pointer": .string("/" + key)])
    }

    func has(_ key: String) -> Bool { fields[key].map { !$0.isNull } ?? false }

    func string(_ key: String, default fallback: String? = nil) throws(CallFailure) -> String {
        guard let value = fields[key], !value.isNull else {
            if let fallback { return fallback }
            throw invalid(key, "is required")
        }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        return s
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(CallFailure) -> Int {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func object(_ key: String) throws(CallFailure) -> [String: JSONValue]? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let o = value.objectValue else { throw invalid(key, "must be an object, not \(value.typeName)") }
        return o
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
