import JALMCore
import JALMPlatform

/// One call's writes waiting for the writer thread, all-or-nothing, and who to tell when they are done.
struct PendingWrite: Sendable {
    enum Change: Sendable {
        case journal([JournalWrite])
        case layerEvent(LayerEventRecord)
    }
    var change: Change
    /// Whether the caller waits for fsync (a group write rides along with the next durable one).
    var durable: Bool
    var completion: (@Sendable (RunnerError?) -> Void)?

    var isEmpty: Bool { if case .journal(let w) = change { w.isEmpty } else { false } }
}

/// The FIFO between callers and the writer thread. A durable write wakes the writer at once; group writes
/// wait for the next durable one, for `groupDelay`, or for `groupBatch` of them, whichever comes first, so
/// that a step's result does not cost a wake-up of the writer of its own.
final class WriteQueue: @unchecked Sendable {
    // Everything below `lock` is only touched with it held; that is what makes this @unchecked Sendable.
    private let lock = ConditionLock()
    private var pending: [PendingWrite] = []
    private var closed = false
    /// A durable write (or a close) is waiting: the writer must not wait any longer.
    private var urgent = false
    /// When the oldest group write arrived (monotonic ns), if one waits.
    private var firstGroupAt: UInt64?
    private var writerSleeping = false
    let groupDelayNs: UInt64
    static let groupBatch = 256

    init(groupDelay: Duration) {
        let c = groupDelay.components
        groupDelayNs = UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds / 1_000_000_000))
    }

    /// Appends `entry` and wakes the writer if it must go now; false (and nothing queued) once closed.
    func enqueue(_ entry: PendingWrite) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return false }
        pending.append(entry)
        if entry.durable || pending.count >= Self.groupBatch { urgent = true }
        if firstGroupAt == nil { firstGroupAt = monotonicNanoseconds() }
        if writerSleeping && (urgent || pending.count == 1) { lock.signal() }
        return true
    }

    /// Blocks until there is something to commit now, then takes all of it, oldest first. Nil when the queue
    /// is closed and empty: entries queued before `close()` are still handed out, so that closing drains.
    func takeAll() -> [PendingWrite]? {
        lock.lock()
        defer { lock.unlock() }
        while !closed && !urgent {
            writerSleeping = true
            if let first = firstGroupAt {
                let due = first + groupDelayNs
                if monotonicNanoseconds() >= due { writerSleeping = false; break }
                lock.wait(untilMonotonicNanoseconds: due)
            } else {
                lock.wait()
            }
            writerSleeping = false
        }
        writerSleeping = false
        if pending.isEmpty { return closed ? nil : [] }
        defer {
            pending = []
            urgent = false
            firstGroupAt = nil
        }
        return pending
    }

    /// Refuses further entries and wakes the writer; true only for the call that closed it.
    func close() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return false }
        closed = true
        lock.broadcast()
        return true
    }
}
