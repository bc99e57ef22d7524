import JALMWire
import Synchronization

/// What a running statement checks to know it must stop: the step's deadline and the kernel's cancel.
///
/// Engines poll it (SQLite's progress handler, the PostgreSQL wait loop) from their own threads; the
/// handler's task flips `cancelled` when the kernel sends `cancel`.
final class CallControl: Sendable {
    let deadline: ContinuousClock.Instant
    private let flag = Atomic<Bool>(false)

    init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    var isExpired: Bool { ContinuousClock.now >= deadline }
    /// True when the statement must stop now.
    var shouldStop: Bool { isCancelled || isExpired }

    /// Milliseconds left before the deadline (0 when past).
    var remainingMs: Int {
        let left = deadline - ContinuousClock.now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return max(0, Int(ms))
    }

    /// The failure for a statement that was stopped: `cancelled` if the kernel asked, else `timeout`.
    func stoppedFailure(_ engine: String) -> CallFailure {
        isCancelled
            ? CallFailure(.cancelled, "the \(engine) statement was cancelled", details: ["reason": "cancelled"])
            : CallFailure(.timeout, "the \(engine) statement was stopped at the step's timeout", details: ["reason": "statement_timeout"])
    }
}
