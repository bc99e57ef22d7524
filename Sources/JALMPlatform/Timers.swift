import Synchronization

/// One thread that fires many deadlines (call timeouts, cancel grace, hello timeouts, backoffs), so a
/// wait is a heap entry, never a sleeping thread or a task per call.
public final class Timers: @unchecked Sendable {
    public struct Token: Hashable, Sendable { let id: UInt64 }

    private struct Entry {
        var at: UInt64
        var id: UInt64
    }

    public static let shared = Timers()

    private let lock = ConditionLock()
    private var heap: [Entry] = []
    /// Actions by timer id; a cancelled timer loses its action at once and its heap entry is skipped.
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 1

    private init() {
        let started = OSThread.startDetached { [self] in self.loop() }
        precondition(started, "cannot start the timer thread")
    }

    /// Runs `action` on the timer thread after `delay`; keep actions short and non-blocking.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Token {
        let ns = UInt64(max(0, delay.components.seconds)) * 1_000_000_000
            + UInt64(max(0, delay.components.attoseconds / 1_000_000_000))
        return lock.withLock {
            let id = nextID
            nextID += 1
            actions[id] = action
            push(Entry(at: monotonicNanoseconds() + ns, id: id))
            // Wake the thread only when this timer is now the earliest; otherwise it already sleeps less.
            if heap[0].id == id { lock.signal() }
            return Token(id: id)
        }
    }

    /// Drops the timer's action; a timer that already fired is not affected.
    public func cancel(_ token: Token) {
        lock.withLock { _ = actions.removeValue(forKey: token.id) }
    }

    private func loop() {
        while true {
            lock.lock()
            var due: [@Sendable () -> Void] = []
            while due.isEmpty {
                while let first = heap.first, actions[first.id] == nil { _ = first; pop() }  // drop cancelled
                guard let first = heap.first else { lock.wait(); continue }
                let now = monotonicNanoseconds()
                if first.at > now { lock.wait(untilMonotonicNanoseconds: first.at); continue }
                while let e = heap.first, e.at <= now {
                    pop()
                    if let action = actions.removeValue(forKey: e.id) { due.append(action) }
                }
            }
            lock.unlock()
            for action in due { action() }
        }
    }

    // A binary min-heap on `at`.
    private func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].at <= heap[i].at { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].at < heap[m].at { m = l }
            if r < heap.count && heap[r].at < heap[m].at { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
