#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import JALMCore
import JALMPlatform
import JALMWire

/// Owns the processes of one layer: spawns them, routes calls to them, restarts them with backoff,
/// quarantines the layer when they keep failing, and drains them on shutdown.
public final class LayerSupervisor: Sendable {
    public let name: String
    let settings: SupervisorSettings
    /// Ops the catalog routes to this layer; a process that does not announce them all is refused.
    let requiredOps: Set<String>
    let logger: Logger
    let recordEvent: @Sendable (_ event: String, _ detail: JSONValue) -> Void
    /// Builds the confinement of a manifest (a swapped-in plugin may bring its own policy).
    let confine: @Sendable (LayerManifest) throws -> LayerConfinement?

    struct Slot {
        var machine: SupervisorStateMachine
        var process: LayerProcess?
    }

    struct State: ~Copyable {
        var slots: [Slot]
        /// Calls waiting for a free process, oldest first (every process is at `max_inflight`, or starting).
        var queue: [QueuedCall] = []
        /// `queue.count`, readable without the lock.
        let queued: QueueLength
        var generation = 0
        var stopping = false
        /// Processes killed by their seccomp filter, and by the OOM killer at their memory limit.
        var violations = 0
        var oomKills = 0
        /// The generation now serving, and the one before it (for rollback).
        var current: Generation
        var previous: Generation?
        var swapping = false
        /// Swaps alternate between two sets of cgroup leaves, so that a draining old generation and the
        /// new one never share a memory limit.
        var leafOffset = 0
    }

    /// What a generation of the layer runs: its manifest and how it is confined.
    struct Generation: Sendable {
        var manifest: LayerManifest
        var confinement: LayerConfinement?
    }
    let state: Mutex<State>
    let changeCount = Atomic<UInt64>(0)
    /// The length of `State.queue`, read by `pump` without the lock.
    let queued = QueueLength()
    /// `layers.<name>` as the last reload set it (nil inside: removed); nil: as `settings` has it.
    let reloadedConfig = Mutex<JSONValue??>(nil)

    public init(manifest: LayerManifest, settings: SupervisorSettings, requiredOps: Set<String>, logger: Logger,
                confine: @escaping @Sendable (LayerManifest) throws -> LayerConfinement? = { _ in nil },
                recordEvent: @escaping @Sendable (String, JSONValue) -> Void) throws {
        self.name = manifest.name
        self.confine = confine
        self.settings = settings
        self.requiredOps = requiredOps
        var logger = logger
        logger[metadataKey: "layer.name"] = "\(manifest.name)"
        self.logger = logger
        self.recordEvent = recordEvent
        let slot = Slot(machine: SupervisorStateMachine(policy: settings.restart))
        let generation = Generation(manifest: manifest, confinement: try confine(manifest))
        self.state = Mutex(State(slots: Array(repeating: slot, count: manifest.pool), queued: queued, current: generation))
    }

    /// The manifest of the generation now serving.
    public var manifest: LayerManifest { state.withLock { $0.current.manifest } }

    /// How the serving generation's processes are confined; nil when the sandbox is off.
    public var confinement: LayerConfinement? { state.withLock { $0.current.confinement } }


    /// Spawns every process of the pool. Its ping loop and deadline sweep are `SupervisorLoops`, a
    /// `Service` that the owner runs beside it (the kernel, in its task group).
    public func start() {
        let n = state.withLock { $0.slots.count }
        for i in 0..<n {
            let action = state.withLock { $0.slots[i].machine.start() }
            if action == .spawn { Task { await self.spawn(slot: i) } }
        }
    }

    /// Lifts a quarantine (or restarts a layer that is down): `jalm layers restart NAME`.
    public func restart() {
        let n = state.withLock { $0.slots.count }
        for i in 0..<n {
            let (action, running) = state.withLock { s in (s.slots[i].machine.start(), s.slots[i].process) }
            if action == .spawn {
                Task { await self.spawn(slot: i) }
            } else if let running {
                running.channel.close(reason: "restart requested")
                running.kill()
            }
        }
        recordEvent("restart_requested", .null)
    }

    /// True once at least one process has greeted.
    public var isReady: Bool { state.withLock { s in s.slots.contains { $0.machine.isReady } } }

    /// The quarantine reason when every slot is quarantined.
    public var quarantineReason: String? {
        state.withLock { s in
            let reasons = s.slots.compactMap { $0.machine.quarantineReason }
            return reasons.count == s.slots.count ? reasons.first : nil
        }
    }

    /// The ops the ready processes announced.
    public var announcedOps: Set<String> {
        state.withLock { s in
            var ops = Set<String>()
            for slot in s.slots { ops.formUnion(slot.process?.hello?.ops ?? []) }
            return ops
        }
    }

    func countViolation(_ code: ErrorCode) {
        switch code {
        case .sandboxViolation: state.withLock { $0.violations += 1 }
        case .resourceExhausted: state.withLock { $0.oomKills += 1 }
        default: break
        }
    }

    /// Something changed (a process greeted, a generation was swapped in, the layer was quarantined):
    /// the waiting calls try again, and `changes` moves on.
    func wakeAll() {
        changeCount.add(1, ordering: .releasing)
        pump()
    }

    /// Moves on whenever a process greets or goes, a generation is swapped in, or the layer is quarantined:
    /// what is derived from the processes (the ops they announce) is derived again only then.
    public var changes: UInt64 { changeCount.load(ordering: .acquiring) }

    /// A call ended and freed a slot.
    func wakeOne() { pump() }

}

/// A count kept beside a locked queue, readable without the lock.
final class QueueLength: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .releasing) }
    func decrement() { value.subtract(1, ordering: .releasing) }
    var count: Int { value.load(ordering: .acquiring) }
}
