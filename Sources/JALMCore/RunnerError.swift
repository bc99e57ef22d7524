import JALMWire

/// The one error type of the runner: a closed set of codes, an optional JSON Pointer into the capsule,
/// and a message a person can act on. Mapped to HTTP in exactly one place (JALMAPI).
public struct RunnerError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Code = ErrorCode

    public var code: Code
    public var message: String
    /// JSON Pointer into the submitted capsule, for invalid input.
    public var pointer: String?
    public var details: JSONValue?
    /// Whether trying again may help. A plugin may know better than its code's default (io-http's
    /// `upstream_error` for a 4xx is not, io-db's locked database is), so the flag is kept as it was said,
    /// journaled with the failure, and decided on the same way before and after a restart.
    public var retryable: Bool

    public init(_ code: Code, _ message: String, pointer: String? = nil, details: JSONValue? = nil,
                retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.pointer = pointer
        self.details = details
        self.retryable = retryable ?? code.retryable
    }

    public init(_ code: Code, _ message: String, at pointer: JSONPointer, details: JSONValue? = nil,
                retryable: Bool? = nil) {
        self.init(code, message, pointer: pointer.description, details: details, retryable: retryable)
    }

    public var description: String {
        pointer.map { "\(code.rawValue) at \($0): \(message)" } ?? "\(code.rawValue): \(message)"
    }

    /// A plugin's failure, its `retryable` flag kept as the plugin said it.
    public init(_ failure: CallFailure) {
        self.init(failure.code, failure.message, details: failure.details, retryable: failure.retryable)
    }

    /// The JSON form stored in the journal and returned in step results.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message),
                                      "retryable": .bool(retryable)]
        if let pointer { o["pointer"] = .string(pointer) }
        if let details { o["details"] = details }
        return .object(o)
    }

    public init?(json: JSONValue) {
        guard let c = json["code"]?.stringValue, let code = Code(rawValue: c) else { return nil }
        self.init(code, json["message"]?.stringValue ?? c, pointer: json["pointer"]?.stringValue,
                  details: json["details"], retryable: json["retryable"]?.boolValue)
    }
}
