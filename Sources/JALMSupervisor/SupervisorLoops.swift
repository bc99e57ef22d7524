import ServiceLifecycle

/// A supervisor's two loops, as one `Service`: the ping loop (every `ping_interval`; a process whose pongs
/// stopped for `ping_timeout` is killed) and the deadline sweep (every 10 ms; `cancel` to a call past its
/// deadline, and a kill for a process that kept it past `cancel_grace`).
///
/// It ends when the supervisor drains (both loops see it stopping) or when its task is cancelled. It does
/// not end when a graceful shutdown begins: the engine still finishes executions then, and their calls need
/// their deadlines swept until the layer itself drains, the last step of the shutdown.
public struct SupervisorLoops: Service {
    public let supervisor: LayerSupervisor

    public init(_ supervisor: LayerSupervisor) { self.supervisor = supervisor }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await supervisor.pingLoop() }
            group.addTask { await supervisor.deadlineLoop() }
        }
    }
}

extension LayerSupervisor {
    /// How often call deadlines are checked: a timeout fires within this much of its due time.
    static let deadlineResolution: Duration = .milliseconds(10)

    /// Checks every process's call deadlines; kills a process that kept a call past its cancel grace.
    func deadlineLoop() async {
        while true {
            // Sleep throws only when cancelled: the owner stopped the loops.
            do { try await Task.sleep(for: Self.deadlineResolution) } catch { return }
            let processes = state.withLock { s -> [LayerProcess]? in
                s.stopping ? nil : s.slots.compactMap(\.process)
            }
            guard let processes else { return }
            let now = ContinuousClock.now
            for p in processes where p.channel.sweep(now: now, grace: settings.cancelGrace) {
                logger.warning("killing a process that ignored cancel", metadata: ["layer.pid": "\(p.pid)"])
                p.channel.close(reason: "ignored cancel for \(settings.cancelGrace)")
                p.kill()
            }
        }
    }

    func pingLoop() async {
        while true {
            do { try await Task.sleep(for: settings.pingInterval) } catch { return }
            let processes = state.withLock { s -> [LayerProcess]? in
                s.stopping ? nil : s.slots.compactMap { $0.machine.isReady ? $0.process : nil }
            }
            guard let processes else { return }
            for p in processes where !p.ping(timeout: settings.pingTimeout) {
                p.channel.close(reason: "stopped answering pings for \(settings.pingTimeout)")
                p.kill()
            }
        }
    }
}
