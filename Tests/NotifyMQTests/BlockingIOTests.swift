#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import JALMWire
@testable import jalm_layer_notify_mq

/// The io_threads limit: no more blocking calls run at once than allowed; the rest wait their turn.
struct BlockingIOTests {
    @Test(arguments: [1, 3])
    func neverMoreThreadsThanTheLimit(limit: Int) async throws {
        let io = BlockingIO(maxThreads: limit)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await io.run(deadline: .now + .seconds(10)) { _ throws(CallFailure) in
                        counter.enter()
                        var t = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                        nanosleep(&t, nil)
                        counter.leave()
                        return i
                    }
                }
            }
            var done = 0
            for try await _ in group { done += 1 }
            #expect(done == 8)
        }
        #expect(counter.peak == limit)
    }

    /// How many run at once, and the most seen.
    final class Counter: Sendable {
        private let state = Mutex((running: 0, peak: 0))
        func enter() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }
        func leave() { state.withLock { $0.running -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
    }

    @Test func aCancelledCallSeesItsBudgetCancelled() async throws {
        let io = BlockingIO(maxThreads: 1)
        let task = Task {
            try await io.run(deadline: .now + .seconds(10)) { budget throws(CallFailure) -> Bool in
                for _ in 0..<200 where !budget.isCancelled { var t = timespec(tv_sec: 0, tv_nsec: 10_000_000); nanosleep(&t, nil) }
                return budget.isCancelled
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(try await task.value == true)
    }
}
