import Synchronization
import JALMCore
import JALMWire

/// Who served a call, for the journal.
public struct CallReceipt: Sendable {
    public var pid: Int32?
    public var version: String?
}

/// The state of one call that timers and cancellation share.
final class CallTicket: Sendable {
    private struct State { var id: UInt64 = 0; var expired = false; var cancelled = false; var timer: Timers.Token? }
    private let state = Mutex(State())
    var id: UInt64 { state.withLock { $0.id } }
    func set(id: UInt64) { state.withLock { $0.id = id } }
    func markExpired() { state.withLock { $0.expired = true } }
    func markCancelled() { state.withLock { $0.cancelled = true } }
    var expired: Bool { state.withLock { $0.expired } }
    var timer: Timers.Token? {
        get { state.withLock { $0.timer } }
        set { state.withLock { $0.timer = newValue } }
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
            if let best, best.reserve(limit: manifest.maxInflight) { return .process(best) }
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
        var chosen: LayerProcess?
        while chosen == nil {
            switch pick() {
            case .process(let p): chosen = p
            case .unavailable(let why): return (.failed(CallFailure(.layerUnavailable, why)), CallReceipt())
            case .wait:
                if Task.isCancelled { return (.failed(CallFailure(.cancelled, "cancelled before dispatch")), CallReceipt()) }
                if ContinuousClock.now >= deadline {
                    return (.failed(CallFailure(.timeout, "no process of \(name) was ready within \(timeout)")),
                            CallReceipt())
                }
                await waitForChange(until: deadline)
            }
        }
        let process = chosen!
        defer {
            process.release()
            wakeOne()
        }
        let receipt = CallReceipt(pid: process.pid, version: process.hello?.version)
        let ticket = CallTicket()
        let remaining = deadline - .now
        let outcome = await withTaskCancellationHandler {
            await process.channel.call(
                op: op, input: input, deadlineMs: remaining.milliseconds, idempotencyKey: idempotencyKey,
                traceID: traceID
            ) { id in
                ticket.set(id: id)
                let token = Timers.shared.schedule(after: remaining) { [self] in
                    ticket.markExpired()
                    self.stop(process, ticket: ticket, reason: "step exceeded its timeout of \(timeout)")
                }
                ticket.timer = token
            }
        } onCancel: {
            ticket.markCancelled()
            self.stop(process, ticket: ticket, reason: "cancelled")
        }
        if let t = ticket.timer { Timers.shared.cancel(t) }
        if case .failed(let f) = outcome, ticket.expired, f.code == .cancelled {
            return (.failed(CallFailure(.timeout, "step exceeded its timeout of \(timeout)")), receipt)
        }
        return (outcome, receipt)
    }

    /// Sends `cancel`, then kills the process if the call is still running after the grace period.
    private func stop(_ process: LayerProcess, ticket: CallTicket, reason: String) {
        let id = ticket.id
        guard id != 0, process.channel.isPending(id) else { return }
        process.channel.send(.cancel(id: id))
        Timers.shared.schedule(after: settings.cancelGrace) { [self] in
            guard process.channel.isPending(id) else { return }
            let code: ErrorCode = ticket.expired ? .timeout : .cancelled
            process.channel.fail(id: id, with: CallFailure(
                code, "\(reason); \(name) did not stop within \(settings.cancelGrace), its process was killed"))
            logger.warning("killing a process that ignored cancel", metadata: ["layer.pid": "\(process.pid)"])
            process.channel.close(reason: "ignored cancel for \(settings.cancelGrace)")
            process.kill()
        }
    }
}
