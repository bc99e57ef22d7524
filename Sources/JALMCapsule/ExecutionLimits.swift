import JALMCore
import JALMWire

/// The limits a capsule sets on its whole execution in `meta`: `timeout` (the execution's wall time, from
/// its start) and `max_steps` (a budget on step runs: every attempt of every step counts, so a retry loop
/// or, later, a foreach cannot run away). Other `meta` keys are stored and not acted on yet.
public struct ExecutionLimits: Sendable, Hashable {
    /// Milliseconds from the execution's start; nil: no limit.
    public var timeoutMs: Int64?
    /// Step runs (attempts) the execution may start; nil: no limit.
    public var maxStepRuns: Int?

    public init(timeoutMs: Int64? = nil, maxStepRuns: Int? = nil) {
        self.timeoutMs = timeoutMs
        self.maxStepRuns = maxStepRuns
    }

    /// The largest `max_steps` accepted.
    public static let maxStepRunsCeiling = 1_000_000

    /// Reads `meta.timeout` and `meta.max_steps`; `meta` is the capsule's (an object or null).
    static func parse(meta: JSONValue, at pointer: JSONPointer) throws(RunnerError) -> ExecutionLimits {
        var limits = ExecutionLimits()
        if let value = meta["timeout"] {
            let at = pointer.appending("timeout")
            guard let ms = DurationText.parseMilliseconds(value) else {
                throw invalid("timeout must be a number of seconds or a text such as \"90s\", \"15m\", \"2h\"", at: at)
            }
            guard ms > 0, ms <= DurationText.maxMilliseconds else {
                throw invalid("timeout must be more than 0 and at most 24h", at: at)
            }
            limits.timeoutMs = ms
        }
        if let value = meta["max_steps"] {
            guard let n = value.intValue, n >= 1, n <= Int64(maxStepRunsCeiling) else {
                throw invalid("max_steps must be a whole number from 1 to \(maxStepRunsCeiling)",
                              at: pointer.appending("max_steps"))
            }
            limits.maxStepRuns = Int(n)
        }
        return limits
    }
}
