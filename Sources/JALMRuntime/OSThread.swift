#if canImport(Glibc)
import Glibc
#endif

/// A detached OS thread for loops that block in syscalls; the cooperative pool must never block.
final class OSThread: @unchecked Sendable {
    private let body: () -> Void

    private init(_ body: @escaping () -> Void) { self.body = body }

    static func start(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(OSThread(body))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let me = Unmanaged<OSThread>.fromOpaque(arg!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(tid)
    }
}

/// A mutex with a condition variable, for the few places where an OS thread waits for work.
final class ConditionLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func signal() { pthread_cond_signal(&cond) }
    func broadcast() { pthread_cond_broadcast(&cond) }
    func wait() { pthread_cond_wait(&cond, &mutex) }

    /// Waits until the CLOCK_MONOTONIC time `deadlineNs`, or a signal.
    func wait(untilMonotonicNanoseconds deadlineNs: UInt64) {
        var ts = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
        pthread_cond_timedwait(&cond, &mutex, &ts)
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// CLOCK_MONOTONIC in nanoseconds (the clock ContinuousClock uses on Linux is CLOCK_BOOTTIME; we
/// only compare these values with each other).
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Milliseconds since the Unix epoch, for the journal.
public func epochMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
