/// The life of an execution (DESIGN.md: Executions and steps).
public enum ExecutionState: String, Sendable, CaseIterable {
    case pending, running, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// The life of one attempt of one step, one journal row each.
public enum StepRunState: String, Sendable, CaseIterable {
    case queued, dispatched, ok, error
    case timedOut = "timed_out"
    case cancelled, skipped
    /// In flight when the kernel died, and not safe to repeat.
    case unknown
    /// In flight when the kernel died, and safe to repeat: a later attempt runs it again.
    case interrupted

    public var isFinal: Bool { self != .queued && self != .dispatched }
}

/// What a step's op does to the world; decides what is re-run after a crash and what is retried.
public enum SideEffect: String, Sendable, CaseIterable {
    case none, read, write, external

    /// Running it twice does no harm.
    public var isRepeatable: Bool { self == .none || self == .read }
}
