#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMLayerKit
import JALMPlatform
import JALMWire

/// Runs a call's blocking socket I/O on a thread of its own, so that Swift's cooperative pool never blocks
/// in `poll`; at most `maxThreads` such threads exist at once (each counts against the layer's `pids`
/// limit), later calls wait their turn. A cancelled task flags the budget, which the I/O sees within
/// `IOBudget.sliceMs`.
final class BlockingIO: Sendable {
    private struct State: ~Copyable {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    let maxThreads: Int

    init(maxThreads: Int) { self.maxThreads = maxThreads }

    func run<T: Sendable>(deadline: ContinuousClock.Instant,
                          _ body: @escaping @Sendable (IOBudget) throws(CallFailure) -> T) async throws(CallFailure) -> T {
        await acquire()
        defer { release() }
        let budget = IOBudget(deadline: deadline)
        let result: Result<T, CallFailure> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, CallFailure>, Never>) in
                Self.startThread {
                    do throws(CallFailure) {
                        continuation.resume(returning: .success(try body(budget)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
        } onCancel: {
            budget.cancel()
        }
        return try result.get()
    }

    private func acquire() async {
        let admitted = state.withLock { s -> Bool in
            if s.running < maxThreads { s.running += 1; return true }
            return false
        }
        if admitted { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                // A release may have happened between the two locks.
                if s.running < maxThreads { s.running += 1; return true }
                s.waiting.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty { s.running -= 1; return nil }
            return s.waiting.removeFirst()   // the slot passes straight to the next waiter
        }
        next?.resume()
    }

    private static func startThread(_ body: @escaping @Sendable () -> Void) {
        // No thread (pids limit): run here rather than lose the call; the pool thread blocks this once.
        if !OSThread.startDetached(body) { body() }
    }
}
