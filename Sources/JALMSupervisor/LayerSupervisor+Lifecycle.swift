#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import JALMWire

extension LayerSupervisor {
    /// Sends `drain` to every process and waits (bounded) for them to exit; stragglers are killed.
    public func drain(timeout: Duration) async {
        let processes = state.withLock { s -> [LayerProcess] in
            s.stopping = true
            for i in s.slots.indices { s.slots[i].machine.drain() }
            return s.slots.compactMap(\.process)
        }
        wakeAll()
        for p in processes { p.channel.send(.drain) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let alive = state.withLock { s in s.slots.contains { $0.process != nil } }
            if !alive { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        for p in processes {
            p.channel.close(reason: "did not drain within \(timeout)")
            p.kill()
        }
    }

    /// The layer as `GET /layers` shows it.
    public func snapshot() -> JSONValue {
        state.withLock { s in
            var processes: [JSONValue] = []
            var version: String?
            var ops: [String] = []
            var restarts = 0
            var lastError: String?
            var states: [String] = []
            for slot in s.slots {
                restarts += slot.machine.totalRestarts
                lastError = slot.machine.lastError ?? lastError
                states.append(Self.stateName(slot.machine.state))
                if let p = slot.process {
                    if let h = p.hello { version = h.version; ops = h.ops }
                    processes.append([
                        "pid": .int(Int64(p.pid)), "state": .string(Self.stateName(slot.machine.state)),
                        "confinement": s.current.confinement.map { $0.usage(report: p.confinement, leaf: p.leaf) } ?? .null,
                        "uptime_s": .double(Double((ContinuousClock.now - p.startedAt).milliseconds) / 1000),
                        "inflight": .int(Int64(p.inflight)), "served": .int(Int64(p.served)),
                    ])
                }
            }
            let overall = ["ready", "starting", "restarting", "draining", "quarantined", "stopped"]
                .first { states.contains($0) } ?? "stopped"
            return [
                "name": .string(name), "state": .string(overall), "version": version.map { .string($0) } ?? .null,
                "ops": .array(ops.sorted().map { .string($0) }), "processes": .array(processes),
                "pool": .int(Int64(s.slots.count)), "max_inflight": .int(Int64(s.current.manifest.maxInflight)),
                "restarts": .int(Int64(restarts)), "last_error": lastError.map { .string($0) } ?? .null,
                "violations": .int(Int64(s.violations)), "oom_kills": .int(Int64(s.oomKills)),
                "sandbox": .string(s.current.confinement?.modeName ?? "off"),
                "quarantine_reason": s.slots.compactMap { $0.machine.quarantineReason }.first.map { .string($0) } ?? .null,
            ]
        }
    }

    static func stateName(_ state: SupervisorStateMachine.State) -> String {
        switch state {
        case .stopped: "stopped"
        case .starting: "starting"
        case .ready: "ready"
        case .backoff: "restarting"
        case .quarantined: "quarantined"
        case .draining: "draining"
        }
    }
}
