import JALMWire

/// One op's input object, read the way every layer reads it: unknown keys are refused up front, and each
/// getter names the field it checks (`io-file.read: "path" is required`, pointer `/path`). A layer adds
/// its own getters in an extension.
public struct OpInput: Sendable {
    public let layer: String
    public let op: String
    public let fields: [String: JSONValue]
    /// Where this object sits in the step input, for error pointers (`/statements/2`); "" at the top.
    public let pointer: String

    public init(layer: String, op: String, _ input: JSONValue, allowed: Set<String>, pointer: String = "")
        throws(CallFailure)
    {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "\(layer).\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": .string(pointer)])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "\(layer).\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string(pointer + "/" + unknown)])
        }
        self.layer = layer
        self.op = op
        self.fields = fields
        self.pointer = pointer
    }

    /// `invalid_input` naming the field; `reason` goes into `details` for callers that branch on it.
    public func invalid(_ key: String, _ message: String, reason: String? = nil) -> CallFailure {
        var details: [String: JSONValue] = ["pointer": .string(pointer + "/" + key)]
        if let reason { details["reason"] = .string(reason) }
        return CallFailure(.invalidInput, "\(layer).\(op): \"\(key)\" \(message)", details: .object(details))
    }

    /// The value at `key`, or nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let v = fields[key], !v.isNull else { return nil }
        return v
    }

    /// Whether `key` is present and not null.
    public func has(_ key: String) -> Bool { fields[key].map { !$0.isNull } ?? false }

    public func string(_ key: String, default fallback: String? = nil, maxBytes: Int = .max) throws(CallFailure) -> String {
        guard let value = value(key) else {
            if let fallback { return fallback }
            throw invalid(key, "is required")
        }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        if s.utf8.count > maxBytes { throw invalid(key, "is longer than \(maxBytes) bytes") }
        return s
    }

    /// The string at `key`, or nil when absent or null.
    public func optionalString(_ key: String, maxBytes: Int = .max) throws(CallFailure) -> String? {
        has(key) ? try string(key, maxBytes: maxBytes) : nil
    }

    public func bool(_ key: String, default fallback: Bool) throws(CallFailure) -> Bool {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let b = value.boolValue else { throw invalid(key, "must be a boolean, not \(value.typeName)") }
        return b
    }

    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(CallFailure) -> Int {
        try optionalInt(key, in: range) ?? fallback
    }

    /// The integer at `key`, or nil when absent or null.
    public func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(CallFailure) -> Int? {
        guard let value = value(key) else { return nil }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    public func object(_ key: String) throws(CallFailure) -> [String: JSONValue]? {
        guard let value = fields[key], !value.isNull else { return nil }
        guard let o = value.objectValue else { throw invalid(key, "must be an object, not \(value.typeName)") }
        return o
    }
}
