#if canImport(Glibc)
import Glibc
#endif

/// Writes waiting for the writer thread, with the continuation of a `commit` caller if there is one.
struct PendingWrite: Sendable {
    var writes: [StoreWrite]
    var waiter: CheckedContinuation<Void, any Error>?
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
