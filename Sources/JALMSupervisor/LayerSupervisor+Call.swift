import Synchronization
import JALMCore
import JALMWire

/// Who served a call, for the journal.
public struct CallReceipt: Sendable {
    public var pid: Int32?
    public var version: String?
}

/// The id of a call, shared with its cancellation handler.
final class CallTicket: Sendable {
    private let state = Mutex<UInt64>(0)
    var id: UInt64 {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

extension LayerSupervisor {
    private enum Pick {
        case process(LayerProcess)
        case unavailable(String)
        case wait
    }

    private func pick() -> Pick {
        state.withLock { s -> Pick in
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
    }

    /// Runs one op on a process of this layer within `timeout`. On timeout the layer gets `cancel`; a
    /// process that does not stop within the grace period is killed (and restarted by supervision).
    public func call(op: String, input: JSONValue, timeout: Duration, idempotencyKey: String? = nil,
                     traceID: String? = nil) async -> (CallOutcome, CallReceipt) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let process: LayerProcess
            switch pick() {
            case .process(let p): process = p
            case .unavailable(let why): return (.failed(CallFailure(.layerUnavailable, why)), CallReceipt())
            case .wait:
                if Task.isCancelled { return (.failed(CallFailure(.cancelled, "cancelled before dispatch")), CallReceipt()) }
                if ContinuousClock.now >= deadline {
                    return (.failed(CallFailure(.timeout, "no process of \(name) was ready within \(timeout)")),
                            CallReceipt())
                }
                await waitForChange(until: deadline)
                continue
            }
            let receipt = CallReceipt(pid: process.pid, version: process.hello?.version)
            let ticket = CallTicket()
            let outcome: CallOutcome? = Task.isCancelled
                ? .failed(CallFailure(.cancelled, "cancelled before dispatch"))
                : await withTaskCancellationHandler {
                    await process.channel.call(
                        op: op, input: input, timeout: deadline - .now, idempotencyKey: idempotencyKey, traceID: traceID
                    ) { id in ticket.id = id }
                } onCancel: {
                    process.channel.cancel(id: ticket.id)
                }
            process.release()
            wakeOne()
            // nil: the process was told to drain (a swap) before the call went out; pick again, which
            // finds the new generation. The call was never sent, so nothing runs twice.
            if let outcome { return (outcome, receipt) }
        }
    }
}
