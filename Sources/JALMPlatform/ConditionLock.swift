#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for the few places where an OS thread waits for work.
public final class ConditionLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    public init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    public func lock() { pthread_mutex_lock(&mutex) }
    public func unlock() { pthread_mutex_unlock(&mutex) }
    public func signal() { pthread_cond_signal(&cond) }
    public func broadcast() { pthread_cond_broadcast(&cond) }
    public func wait() { pthread_cond_wait(&cond, &mutex) }

    /// Waits until the CLOCK_MONOTONIC time `deadlineNs`, or a signal.
    public func wait(untilMonotonicNanoseconds deadlineNs: UInt64) {
        var ts = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
        pthread_cond_timedwait(&cond, &mutex, &ts)
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
