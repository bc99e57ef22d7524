import JALMWire

/// Keeps secret values out of what is journaled and shown: every occurrence of a secret's value inside a
/// string of an output or an error becomes `***`. Values shorter than `minimumLength` bytes are not
/// masked (masking "a" would mangle every output); docs/capsules.md says so.
///
/// Here, not beside `SecretStore` in JALMSupervisor: masking is pure (values in, values out), and it is the
/// engine's concern, not the supervisor's; whatever runs executions reaches it without the supervisor.
public struct SecretMask: Sendable {
    public static let minimumLength = 4
    public static let replacement = "***"
    private let values: [String]

    public init(_ secrets: [String: String]) {
        // Longest first, so that a secret containing another is masked whole.
        values = secrets.values.filter { $0.utf8.count >= Self.minimumLength }.sorted { $0.utf8.count > $1.utf8.count }
    }

    public var isEmpty: Bool { values.isEmpty }

    public func apply(_ value: JSONValue) -> JSONValue {
        if values.isEmpty { return value }
        switch value {
        case .string(let s): return .string(apply(s))
        case .array(let items): return .array(items.map(apply))
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (k, v) in members { out[apply(k)] = apply(v) }
            return .object(out)
        default: return value
        }
    }

    public func apply(_ text: String) -> String {
        var text = text
        for secret in values where text.contains(secret) {
            text = text.replacing(secret, with: Self.replacement)
        }
        return text
    }
}

extension SecretMask {
    public func apply(_ error: RunnerError) -> RunnerError {
        if isEmpty { return error }
        var error = error
        error.message = apply(error.message)
        error.details = error.details.map(apply)
        return error
    }

    public func apply(_ failure: CallFailure) -> CallFailure {
        if isEmpty { return failure }
        var failure = failure
        failure.message = apply(failure.message)
        failure.details = failure.details.map(apply)
        return failure
    }
}
