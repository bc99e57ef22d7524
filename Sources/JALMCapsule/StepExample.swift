import JALMCore
import JALMWire

/// A worked example of an op from its card: the catalog tests run each one against the real plugin.
public struct StepExample: Sendable, Hashable {
    /// A call on the same layer made before the example's own, e.g. a write before a read.
    public struct Call: Sendable, Hashable {
        public var op: String
        public var input: JSONValue

        public init(op: String, input: JSONValue) {
            self.op = op
            self.input = input
        }
    }

    public var name: String
    public var before: [Call]
    public var input: JSONValue
    /// The output expected; nil when the example expects an error.
    public var expectedOutput: JSONValue?
    /// Whether only the keys listed in `expectedOutput` must match (recursively), rather than all of them.
    public var matchSubset: Bool
    /// The error code expected instead of an output.
    public var expectedError: ErrorCode?
    /// Servers the example talks to (`http`, `postgres`, `smtp`, ...): the catalog test starts them on
    /// loopback and passes their addresses as capsule vars (`{{ vars.http_url }}`).
    public var needs: [String] = []

    public init(name: String, before: [Call] = [], input: JSONValue, expectedOutput: JSONValue? = nil,
                matchSubset: Bool = false, expectedError: ErrorCode? = nil) {
        self.name = name
        self.before = before
        self.input = input
        self.expectedOutput = expectedOutput
        self.matchSubset = matchSubset
        self.expectedError = expectedError
    }

    /// Nil when `output` is what the example expects, otherwise why not.
    public func check(output: JSONValue) -> String? {
        if let expectedError {
            return "expected error \(expectedError.rawValue), got output \(JSONWriter.string(output, sortedKeys: true))"
        }
        guard let expectedOutput else { return "the example states neither output nor error" }
        let ok = matchSubset ? Self.isSubset(expectedOutput, of: output) : expectedOutput.matches(output)
        if ok { return nil }
        return "expected \(matchSubset ? "at least " : "")\(JSONWriter.string(expectedOutput, sortedKeys: true)), "
            + "got \(JSONWriter.string(output, sortedKeys: true))"
    }

    /// Nil when the call failing with `error` is what the example expects, otherwise why not.
    public func check(error: ErrorCode) -> String? {
        guard let expectedError else {
            return "expected an output, got error \(error.rawValue)"
        }
        return expectedError == error ? nil : "expected error \(expectedError.rawValue), got \(error.rawValue)"
    }

    /// Whether every key of `expected` is in `actual` with a matching value, recursively through objects;
    /// arrays and scalars must match whole.
    public static func isSubset(_ expected: JSONValue, of actual: JSONValue) -> Bool {
        guard case .object(let e) = expected, case .object(let a) = actual else { return expected.matches(actual) }
        return e.allSatisfy { key, value in a[key].map { isSubset(value, of: $0) } ?? false }
    }

    /// The example as `GET /catalog` serves it, in the card's own words.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "input": input]
        if !before.isEmpty { o["before"] = .array(before.map { ["op": .string($0.op), "input": $0.input] }) }
        if let expectedOutput { o["output"] = expectedOutput }
        if matchSubset { o["match"] = "subset" }
        if let expectedError { o["error"] = .string(expectedError.rawValue) }
        return .object(o)
    }
}
