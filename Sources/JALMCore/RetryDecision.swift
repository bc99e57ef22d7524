import JALMWire

/// Retry rules for one step, as the capsule states them (`retry:`), with the defaults of DESIGN.md.
public struct RetryRule: Sendable, Equatable {
    /// Attempts after the first.
    public var max: Int
    public var base: Duration
    public var factor: Double
    public var maxDelay: Duration
    /// 0...1: the delay is scaled by a random factor in [1 - jitter, 1].
    public var jitter: Double
    /// Codes that may be retried; nil means every retryable code.
    public var retryOn: Set<ErrorCode>?

    public init(max: Int, base: Duration = .milliseconds(200), factor: Double = 2, maxDelay: Duration = .seconds(30),
                jitter: Double = 0.2, retryOn: Set<ErrorCode>? = nil) {
        self.max = max
        self.base = base
        self.factor = factor
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.retryOn = retryOn
    }

    /// No retries: the default for `write` and `external` ops unless the step asks.
    public static let none = RetryRule(max: 0)

    /// The default for `none` and `read` ops: two more tries on retryable errors.
    public static let repeatable = RetryRule(max: 2)

    public static func `default`(for sideEffect: SideEffect) -> RetryRule {
        sideEffect.isRepeatable ? .repeatable : .none
    }

    /// The wait before attempt `attempt + 1` after `attempt` failed with `code`, or nil to stop.
    /// - Parameters:
    ///   - retryable: what the failure itself says (a plugin may know better than its code); defaults to the code's.
    ///   - unit: a random number in 0..<1 (injected so tests are exact).
    public func delay(after attempt: Int, code: ErrorCode, retryable: Bool? = nil, unit: Double) -> Duration? {
        guard attempt <= max else { return nil }
        if let retryOn {
            guard retryOn.contains(code) else { return nil }
        } else if !(retryable ?? code.retryable) {
            return nil
        }
        var seconds = Double(base.components.seconds) + Double(base.components.attoseconds) / 1e18
        seconds *= Foundationless.pow(factor, attempt - 1)
        let cap = Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) / 1e18
        seconds = Swift.min(seconds, cap)
        seconds *= 1 - jitter * unit
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

enum Foundationless {
    static func pow(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<Swift.max(n, 0) { r *= x }
        return r
    }
}
