import Synchronization
import JALMCore
import JALMPlatform
import JALMWire

/// Who served a call, for the journal.
public struct CallReceipt: Sendable {
    public var pid: Int32?
    public var version: String?
}

/// One call through the supervisor: where it is (waiting for a process, sent, done), so that a cancel
/// reaches it wherever it is and its completion runs exactly once.
public final class SupervisedCall: Sendable {
    struct Request: Sendable {
        var op: String
        var input: JSONValue
        var deadline: ContinuousClock.Instant
        var timeout: Duration
        var idempotencyKey: String?
        var traceID: String?
        var dryRun = false
        var completion: @Sendable (CallOutcome, CallReceipt) -> Void
    }

    enum Stage {
        case queued
        case sent(LayerChannel, UInt64)
        case done
    }

    let request: Request
    private let stage = Mutex<(stage: Stage, cancelled: Bool)>((.queued, false))

    init(_ request: Request) { self.request = request }

    /// Asks for the call to stop: a waiting call ends `cancelled` at once; a sent one gets `cancel` and
    /// ends when its layer answers.
    public func cancel() {
        let action = stage.withLock { s -> (LayerChannel, UInt64)? in
            s.cancelled = true
            if case .sent(let channel, let id) = s.stage { return (channel, id) }
            return nil
        }
        if let (channel, id) = action { channel.cancel(id: id) }
    }

    var isCancelled: Bool { stage.withLock { $0.cancelled } }

    /// Records where the call went; sends the cancel at once if it was asked for meanwhile.
    func sent(on channel: LayerChannel, id: UInt64) {
        let cancelNow = stage.withLock { s -> Bool in
            guard case .queued = s.stage else { return false }
            s.stage = .sent(channel, id)
            return s.cancelled
        }
        if cancelNow { channel.cancel(id: id) }
    }

    /// Back to waiting (the process it went to was draining).
    func requeued() { stage.withLock { if case .sent = $0.stage { $0.stage = .queued } } }

    /// Runs the completion, the first time only.
    func finish(_ outcome: CallOutcome, _ receipt: CallReceipt) {
        let first = stage.withLock { s -> Bool in
            if case .done = s.stage { return false }
            s.stage = .done
            return true
        }
        if first { request.completion(outcome, receipt) }
    }

    var isDone: Bool { stage.withLock { if case .done = $0.stage { true } else { false } } }
}

/// A call waiting in a supervisor's queue.
struct QueuedCall: Sendable {
    var call: SupervisedCall
}

extension LayerSupervisor.State {
    /// The queue's changes, with `queued` kept equal to its length.
    mutating func enqueue(_ call: SupervisedCall, first: Bool) {
        if first { queue.insert(QueuedCall(call: call), at: 0) } else { queue.append(QueuedCall(call: call)) }
        queued.increment()
    }

    mutating func dequeue() -> SupervisedCall {
        queued.decrement()
        return queue.removeFirst().call
    }

    mutating func remove(_ call: SupervisedCall) -> Bool {
        guard let i = queue.firstIndex(where: { $0.call === call }) else { return false }
        queue.remove(at: i)
        queued.decrement()
        return true
    }
}

extension LayerSupervisor {
    private enum Pick {
        case process(LayerProcess)
        case unavailable(String)
        case wait
    }

    /// The least busy ready process, with a slot reserved on it.
    private func pick(_ s: inout State) -> Pick {
        if s.stopping { return .unavailable("\(name) is shutting down") }
        var best: LayerProcess?
        var anyAlive = false
        for slot in s.slots {
            if slot.machine.quarantineReason == nil { anyAlive = true }
            guard slot.machine.isReady, let p = slot.process else { continue }
            if best == nil || p.inflight < best!.inflight { best = p }
        }
        if let best, best.reserve(limit: s.current.manifest.maxInflight) { return .process(best) }
        if !anyAlive {
            let reason = s.slots.compactMap { $0.machine.quarantineReason }.first ?? "no process"
            return .unavailable("\(name) is quarantined: \(reason); lift it with `jalm layers restart \(name)`")
        }
        return .wait
    }

    /// Runs one op on a process of this layer within `timeout`, and `completion` exactly once, on any
    /// thread, with how it ended. When every process is busy the call waits its turn in a FIFO queue (within
    /// its timeout). On timeout the layer gets `cancel`; a process that does not stop within the grace
    /// period is killed (and restarted by supervision). Never blocks.
    @discardableResult
    public func dispatch(op: String, input: JSONValue, timeout: Duration, idempotencyKey: String? = nil,
                         traceID: String? = nil, dryRun: Bool = false,
                         completion: @escaping @Sendable (CallOutcome, CallReceipt) -> Void) -> SupervisedCall {
        let call = SupervisedCall(.init(op: op, input: input, deadline: .now + timeout, timeout: timeout,
                                        idempotencyKey: idempotencyKey, traceID: traceID, dryRun: dryRun,
                                        completion: completion))
        start(call, fresh: true)
        return call
    }

    /// The same, suspending until the call ends.
    public func call(op: String, input: JSONValue, timeout: Duration, idempotencyKey: String? = nil,
                     traceID: String? = nil) async -> (CallOutcome, CallReceipt) {
        let handle = Mutex<SupervisedCall?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<(CallOutcome, CallReceipt), Never>) in
                let call = dispatch(op: op, input: input, timeout: timeout, idempotencyKey: idempotencyKey,
                                    traceID: traceID) { c.resume(returning: ($0, $1)) }
                handle.withLock { $0 = call }
                if Task.isCancelled { call.cancel() }
            }
        } onCancel: {
            handle.withLock { $0 }?.cancel()
        }
    }

    /// Sends the call to a process, or queues it (behind older waiting calls, unless it is one of them).
    private func start(_ call: SupervisedCall, fresh: Bool) {
        if call.isCancelled {
            return call.finish(.failed(CallFailure(.cancelled, "cancelled before dispatch")), CallReceipt())
        }
        let r = call.request
        let picked = state.withLock { s -> Pick in
            if fresh && !s.queue.isEmpty {
                s.enqueue(call, first: false)
                return .wait
            }
            let p = pick(&s)
            if case .wait = p { s.enqueue(call, first: !fresh) }
            return p
        }
        switch picked {
        case .unavailable(let why):
            call.finish(.failed(CallFailure(.layerUnavailable, why)), CallReceipt())
        case .wait:
            if fresh { expireWhenDue(call) }
        case .process(let process):
            let receipt = CallReceipt(pid: process.pid, version: process.hello?.version)
            let id = process.channel.send(op: r.op, input: r.input, timeout: max(.zero, r.deadline - .now),
                                          idempotencyKey: r.idempotencyKey, traceID: r.traceID,
                                          dryRun: r.dryRun) { [self] outcome in
                process.release()
                if let outcome {
                    call.finish(outcome, receipt)
                } else {
                    // The process was told to drain (a swap) before the call went out; pick again, which finds
                    // the new generation. The call was never sent, so nothing runs twice.
                    call.requeued()
                    start(call, fresh: false)
                }
                pump()
            }
            if let id { call.sent(on: process.channel, id: id) }
        }
    }

    /// A waiting call whose timeout passes before a process frees up ends with `timeout`.
    private func expireWhenDue(_ call: SupervisedCall) {
        Timers.shared.schedule(after: max(.zero, call.request.deadline - .now)) { [self] in
            let removed = state.withLock { s -> Bool in s.remove(call) }
            if removed {
                call.finish(.failed(CallFailure(.timeout, "no process of \(name) was ready within \(call.request.timeout)")),
                            CallReceipt())
            }
        }
    }

    /// Starts the waiting calls that can go now, oldest first.
    func pump() {
        // Most calls end with nobody waiting: no lock for them.
        guard queued.count > 0 else { return }
        while true {
            let next = state.withLock { s -> SupervisedCall? in s.queue.isEmpty ? nil : s.dequeue() }
            guard let next else { return }
            if next.isDone { continue }
            start(next, fresh: false)
            // Still no process for it: it went back to the head of the queue; the rest must wait too.
            if state.withLock({ $0.queue.first?.call === next }) { return }
        }
    }
}
