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

    init(count: Int, argv: [String]) {
        zygotes = (0..<count).map { Zygote(index: $0, argv: argv) }
        state = Mutex(State(free: Array(0..<count)))
        for z in zygotes { z.start() }
    }

    /// Runs one request on a free zygote; a cancel of the calling task is passed on to the zygote.
    func run(_ request: RunRequest, wallMs: Int64) async -> JSONValue {
        let index = await acquire()
        defer { release(index) }
        let zygote = zygotes[index]
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let line = Array(JSONWriter.string(request.zygoteMessage(id: id, wallMs: wallMs)).utf8) + [0x0A]
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<JSONValue, Never>) in
                zygote.submit(Zygote.Job(id: id, line: line) { c.resume(returning: $0) })
            }
        } onCancel: {
            zygote.cancel(id)
        }
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
