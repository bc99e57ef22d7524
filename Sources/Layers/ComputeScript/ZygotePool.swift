import Synchronization
import JALMWire

/// The zygotes of this layer process: a run takes a free one, or waits in line for one.
final class ZygotePool: Sendable {
    private struct State: ~Copyable {
        var free: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    private let zygotes: [Zygote]
    private let state: Mutex<State>
    private let nextID = Atomic<UInt64>(1)

    /// The zygotes start at their first run, not here: an idle compute-script holds no interpreter.
    init(count: Int, argv: [String]) {
        zygotes = (0..<count).map { Zygote(index: $0, argv: argv) }
        state = Mutex(State(free: Array(0..<count)))
    }

    /// Runs one request on a free zygote, its wall clock capped so that it answers 100 ms before
    /// `deadline` (the time spent waiting for a zygote counts); a cancel of the calling task is passed on
    /// to the zygote, and a task cancelled while it waited never reaches one.
    func run(_ request: RunRequest, deadline: ContinuousClock.Instant) async -> (reply: JSONValue, wallCapped: Bool) {
        let index = await acquire()
        defer { release(index) }
        guard !Task.isCancelled else { return (["t": "done", "limit": "cancelled"], false) }
        let left = (deadline - .now).components
        let untilDeadline = left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000 - 100
        let wall = max(1, min(request.limits.wallMs, untilDeadline))
        let zygote = zygotes[index]
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let line = Array(JSONWriter.string(request.zygoteMessage(id: id, wallMs: wall)).utf8) + [0x0A]
        let reply = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<JSONValue, Never>) in
                zygote.submit(Zygote.Job(id: id, line: line) { c.resume(returning: $0) })
            }
        } onCancel: {
            zygote.cancel(id)
        }
        return (reply, wall < request.limits.wallMs)
    }

    private func acquire() async -> Int {
        if let i = state.withLock({ $0.free.isEmpty ? nil : $0.free.removeFirst() }) { return i }
        return await withCheckedContinuation { c in
            let ready = state.withLock { s -> Int? in
                if !s.free.isEmpty { return s.free.removeFirst() }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func release(_ index: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Int, Never>? in
            if s.waiters.isEmpty { s.free.append(index); return nil }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
