import JALMWire

/// What one evaluation has spent, checked against its limits before each expense: a bomb is stopped
/// before it builds the value that would blow the budget, not after.
struct Budget {
    let limits: ExprLimits
    let source: [UInt8]
    private(set) var steps = 0
    private(set) var memoryBytes = 0

    init(limits: ExprLimits, source: [UInt8]) {
        self.limits = limits
        self.source = source
    }

    mutating func step(_ count: Int = 1, at offset: Int) throws(ExprError) {
        steps += count
        guard steps <= limits.maxSteps else {
            throw ExprError(.resourceExhausted, "evaluation took more than max_steps (\(limits.maxSteps)) steps",
                            position: .locate(offset, in: source), limit: "max_steps")
        }
    }

    mutating func allocate(_ bytes: Int, at offset: Int) throws(ExprError) {
        memoryBytes += bytes
        guard memoryBytes <= limits.maxMemoryBytes else {
            throw ExprError(.resourceExhausted,
                            "evaluation built more than max_memory_bytes (\(limits.maxMemoryBytes)) bytes of values",
                            position: .locate(offset, in: source), limit: "max_memory_bytes")
        }
    }

    /// The charge for a new array or object of `count` elements (keys are charged apart).
    static func containerBytes(_ count: Int) -> Int { 16 + 16 * count }
}

/// What an evaluation spent, for tuning limits and for the benchmark.
public struct ExprUsage: Sendable, Hashable {
    public var steps: Int
    public var memoryBytes: Int
}
