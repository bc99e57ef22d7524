import JALMWire

/// One op's input object: unknown keys are refused up front, and each getter names the field it checks.
struct NotifyInput {
    let op: String
    let fields: [String: JSONValue]

    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "notify-mq.\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": ""])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "notify-mq.\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string("/" + unknown)])
        }
        self.op = op
        self.fields = fields
    }

    func invalid(_ key: String, _ message: String, reason: String? = nil) -> CallFailure {
        var details: [String: JSONValue] = ["pointer": .string("/" + key)]
        if let reason { details["reason"] = .string(reason) }
        return CallFailure(.invalidInput, "notify-mq.\(op): \"\(key)\" \(message)", details: .object(details))
    }

    func value(_ key: String) -> JSONValue? {
        guard let v = fields[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String, default fallback: String? = nil, maxBytes: Int = 1 << 20) throws(CallFailure) -> String {
        guard let value = value(key) else {
            if let fallback { return fallback }
            throw invalid(key, "is required")
        }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        if s.utf8.count > maxBytes { throw invalid(key, "is longer than \(maxBytes) bytes") }
        return s
    }

    func optionalString(_ key: String, maxBytes: Int = 1 << 20) throws(CallFailure) -> String? {
        value(key) == nil ? nil : try string(key, maxBytes: maxBytes)
    }

    func bool(_ key: String, default fallback: Bool) throws(CallFailure) -> Bool {
        guard let value = value(key) else { return fallback }
        guard let b = value.boolValue else { throw invalid(key, "must be a boolean, not \(value.typeName)") }
        return b
    }

    func int(_ key: String, default fallback: Int?, in range: ClosedRange<Int>) throws(CallFailure) -> Int? {
        guard let value = value(key) else { return fallback }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// A string that ends up in a protocol line or header: CR, LF and NUL would let it start a new one.
    func headerSafe(_ key: String, _ text: String) throws(CallFailure) -> String {
        if let bad = HeaderText.forbiddenCharacter(in: text) {
            throw invalid(key, "contains \(bad), which could inject a new header or command line",
                          reason: "header_injection")
        }
        return text
    }
}

/// The check every op applies to text placed in a protocol header or command line.
enum HeaderText {
    /// The name of the first CR, LF or NUL in `text`, or nil when it has none.
    static func forbiddenCharacter(in text: String) -> String? {
        for b in text.utf8 {
            switch b {
            case 0x0D: return "a carriage return (CR)"
            case 0x0A: return "a line feed (LF)"
            case 0x00: return "a NUL byte"
            default: continue
            }
        }
        return nil
    }
}
