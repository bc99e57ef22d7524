import Synchronization

/// The deadline and cancellation of one call, shared with the thread that does its blocking socket I/O.
/// Every wait in `TCPConnection` is a `poll` of at most `slice` milliseconds, so a cancel from the kernel
/// is seen within one slice even while a server stays silent.
final class IOBudget: Sendable {
    let deadline: ContinuousClock.Instant
    private let cancelled = Atomic<Bool>(false)

    /// The longest single wait between two looks at the cancel flag.
    static let sliceMs = 50

    init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Milliseconds until `instant` (never negative).
    static func millis(until instant: ContinuousClock.Instant) -> Int {
        let d = instant - .now
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return max(0, Int(ms))
    }
}
