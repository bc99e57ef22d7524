import Logging
import Synchronization
import JALMCore
import JALMSupervisor

/// The daemon's side of `Type=notify`: it gathers what `NotifyPlan` needs (phase, listeners, recovery)
/// and runs the loop that sends readiness, status and watchdog pings.
public final class SystemdLink: Sendable {
    let notifier: SystemdNotifier
    let logger: Logger
    struct State {
        var plan: NotifyPlan
        var phase: NotifyPlan.Phase = .starting
        var listeners = 0
        var listenersUp = 0
        var recovered = false
    }
    let state: Mutex<State>

    /// How often the loop looks at the daemon: readiness is sent within this of being true.
    static let tick: Duration = .milliseconds(100)

    public init(notifier: SystemdNotifier, logger: Logger) {
        self.notifier = notifier
        self.logger = logger
        self.state = Mutex(State(plan: NotifyPlan(watchdogInterval: notifier.watchdogInterval)))
    }

    /// The number of listeners that must be up before `READY=1`.
    public func expectListeners(_ n: Int) { state.withLock { $0.listeners = n } }

    /// One listener's socket is bound and listening.
    public func listenerUp() { state.withLock { $0.listenersUp += 1 } }

    func recovered() { state.withLock { $0.recovered = true } }

    public func setPhase(_ phase: NotifyPlan.Phase) { state.withLock { $0.phase = phase } }

    /// Until `isCancelled`: every tick, observe the kernel and send what the plan says. It runs on the
    /// cooperative pool like the engine and the API: when they starve or the process is stopped
    /// (SIGSTOP), the watchdog pings stop and systemd restarts the daemon.
    func run(kernel: Kernel) async {
        while !Task.isCancelled {
            send(kernel: kernel)
            try? await Task.sleep(for: Self.tick)
        }
    }

    /// One tick, also called on phase changes so that `STOPPING=1` is not a tick late.
    func send(kernel: Kernel) {
        let layers = kernel.layers.values
        let down = layers.filter { !$0.isReady }.map(\.name).sorted()
        let running = kernel.runner.runningCount
        let lines = state.withLock { s in
            s.plan.tick(NotifyPlan.Observation(
                phase: s.phase, layersReady: layers.count - down.count, layers: layers.count, layersDown: down,
                listenersUp: s.listenersUp, listeners: s.listeners, recovered: s.recovered, running: running),
                now: .now)
        }
        guard !lines.isEmpty else { return }
        let e = notifier.send(lines.joined(separator: "\n"))
        if e != 0 {
            logger.warning("sd_notify failed", metadata: ["systemd.socket": "\(notifier.address)", "systemd.errno": "\(e)"])
        }
        if lines.contains("READY=1") {
            let status = lines.first { $0.hasPrefix("STATUS=") }.map { String($0.dropFirst(7)) } ?? ""
            logger.notice("told systemd: ready", metadata: ["systemd.status": "\(status)"])
        }
    }
}
