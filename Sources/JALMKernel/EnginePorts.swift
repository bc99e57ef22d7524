import JALMCore
import JALMEngine
import JALMPlatform
import JALMSupervisor
import JALMWire
import Synchronization

// The engine's ports, wired to the real parts: the supervisors, the timer thread, the secret store.

/// The layers as the engine sees them: one supervisor each.
final class SupervisorDispatch: LayerDispatch {
    let layers: [String: LayerSupervisor]
    /// The ops the catalog routes to each layer.
    let catalogOps: [String: Set<String>]
    /// `announcedOps`, with the supervisors' change counts it was made at: asked at every submission,
    /// made again only when a process greeted or went.
    let cache = Mutex<(changes: [UInt64], ops: Set<String>)?>(nil)

    init(layers: [String: LayerSupervisor], catalogOps: [String: Set<String>]) {
        self.layers = layers
        self.catalogOps = catalogOps
    }

    func dispatch(_ call: LayerCall, completion: @escaping @Sendable (LayerReply) -> Void) -> CallHandle {
        guard let supervisor = layers[call.layer] else {
            completion(LayerReply(.failed(CallFailure(.notFound, "no layer serves \(call.layer).\(call.op)"))))
            return CallHandle(cancel: {})
        }
        let sent = supervisor.dispatch(op: call.op, input: call.input, timeout: call.timeout,
                                       idempotencyKey: call.idempotencyKey, traceID: call.traceID,
                                       dryRun: call.dryRun) { outcome, receipt in
            let reply: LayerReply.Outcome = switch outcome {
            case .ok(let output, _): .ok(output)
            case .failed(let failure): .failed(failure)
            }
            completion(LayerReply(reply, receipt: Receipt(pid: receipt.pid.map(Int.init), version: receipt.version)))
        }
        return CallHandle(cancel: { sent.cancel() })
    }

    /// What the running processes announced, and for a layer with no process up (restarting, quarantined)
    /// what the catalog routes to it, so that its steps are accepted and then fail with `layer_unavailable`
    /// rather than being refused as unknown.
    var announcedOps: Set<String> {
        let names = layers.keys.sorted()
        let changes = names.map { layers[$0]!.changes }
        if let cached = cache.withLock({ $0 }), cached.changes == changes { return cached.ops }
        let ops = currentOps
        cache.withLock { $0 = (changes, ops) }
        return ops
    }

    /// The sum of the supervisors' change counts: each only grows, so the sum moves whenever one does.
    var announcedOpsGeneration: UInt64 { layers.values.reduce(0) { $0 &+ $1.changes } }

    private var currentOps: Set<String> {
        var ops = Set<String>()
        for (name, supervisor) in layers {
            let announced = supervisor.announcedOps
            for op in announced.isEmpty ? catalogOps[name] ?? [] : announced { ops.insert("\(name).\(op)") }
        }
        return ops
    }
}

/// `Timers.shared`, the one timer thread.
struct SharedTimers: TimerPort {
    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let token = Timers.shared.schedule(after: delay, action)
        return { Timers.shared.cancel(token) }
    }
}

extension SecretStore: SecretSource {}
