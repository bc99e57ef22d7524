#if canImport(Glibc)
import Glibc
#endif
import JALMCore

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

/// The FIFO between callers and the writer thread: a pthread mutex and condition variable, because the
/// writer is an OS thread that sleeps until there is work (Synchronization's `Mutex` has no condition).
final class WriteQueue: @unchecked Sendable {
    // `pending` and `closed` are only touched with `mutex` held; that is what makes this @unchecked Sendable.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: [PendingWrite] = []
    private var closed = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Appends `entry` and wakes the writer; false (and nothing queued) once the queue is closed.
    func enqueue(_ entry: PendingWrite) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed else { return false }
        pending.append(entry)
        pthread_cond_signal(condition)
        return true
    }

    /// Blocks until something is queued, then takes all of it, oldest first. Nil when the queue is closed and
    /// empty: entries queued before `close()` are still handed out, so that closing drains.
    func takeAll() -> [PendingWrite]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while pending.isEmpty && !closed { pthread_cond_wait(condition, mutex) }
        if pending.isEmpty { return nil }
        defer { pending = [] }
        return pending
    }

    /// Refuses further entries and wakes the writer; true only for the call that closed it.
    func close() -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed else { return false }
        closed = true
        pthread_cond_broadcast(condition)
        return true
    }
}
