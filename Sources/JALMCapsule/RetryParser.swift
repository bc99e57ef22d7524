import JALMCore
import JALMWire

/// The rules for a step's `retry:` object.
enum RetryParser {
    static let keys: Set<String> = ["strategy", "max", "base", "factor", "max_delay", "jitter", "retry_on"]
    /// Most attempts after the first a capsule may ask for.
    static let maxAttempts = 100
    /// Attempts after the first when `max` is not given (as `RetryRule.repeatable`).
    static let defaultMax = 2

    static func parse(_ value: JSONValue, at pointer: JSONPointer) throws(RunnerError) -> RetrySpec {
        guard case .object(let object) = value else {
            throw invalid("retry must be an object, got \(value.typeName)", at: pointer)
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw invalid("unknown retry key \"\(key)\"; retry has \(keys.sorted().joined(separator: ", "))",
                          at: pointer.appending(key))
        }
        var spec = RetrySpec(max: try integer(object["max"], 0...maxAttempts, at: pointer.appending("max")) ?? defaultMax)
        if let v = object["base"] { spec.baseMs = try StepParser.duration(v, field: "base", at: pointer.appending("base")) }
        if let v = object["max_delay"] {
            spec.maxDelayMs = try StepParser.duration(v, field: "max_delay", at: pointer.appending("max_delay"))
        }
        spec.factor = try number(object["factor"], 1...1000, at: pointer.appending("factor")) ?? spec.factor
        spec.jitter = try number(object["jitter"], 0...1, at: pointer.appending("jitter")) ?? spec.jitter
        spec.retryOn = try codes(object["retry_on"], at: pointer.appending("retry_on"))
        try applyStrategy(object["strategy"], to: &spec, at: pointer.appending("strategy"))
        return spec
    }

    /// `backoff` (the default) keeps the rule; `fixed` waits `base` every time; `none` never retries.
    static func applyStrategy(_ value: JSONValue?, to spec: inout RetrySpec, at pointer: JSONPointer)
        throws(RunnerError)
    {
        switch value {
        case nil, .string("backoff"): break
        case .string("fixed"): spec.factor = 1
        case .string("none"): spec.max = 0
        default: throw invalid("strategy must be one of backoff, fixed, none", at: pointer)
        }
    }

    static func integer(_ value: JSONValue?, _ range: ClosedRange<Int>, at pointer: JSONPointer) throws(RunnerError)
        -> Int?
    {
        guard let value else { return nil }
        guard case .int(let i) = value, i >= range.lowerBound, i <= range.upperBound else {
            throw invalid("must be an integer from \(range.lowerBound) to \(range.upperBound)", at: pointer)
        }
        return Int(i)
    }

    static func number(_ value: JSONValue?, _ range: ClosedRange<Double>, at pointer: JSONPointer)
        throws(RunnerError) -> Double?
    {
        guard let value else { return nil }
        guard let d = value.doubleValue, range.contains(d) else {
            throw invalid("must be a number from \(range.lowerBound) to \(range.upperBound)", at: pointer)
        }
        return d
    }

    static func codes(_ value: JSONValue?, at pointer: JSONPointer) throws(RunnerError) -> Set<ErrorCode>? {
        guard let value else { return nil }
        guard case .array(let items) = value else {
            throw invalid("retry_on must be an array of error codes, got \(value.typeName)", at: pointer)
        }
        var codes: Set<ErrorCode> = []
        for (i, item) in items.enumerated() {
            guard let raw = item.stringValue, let code = ErrorCode(rawValue: raw) else {
                let known = ErrorCode.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid("unknown error code \(item); codes are \(known)", at: pointer.appending(i))
            }
            codes.insert(code)
        }
        return codes
    }
}
