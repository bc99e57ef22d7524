/// What the daemon tells systemd, decided from what it observes: no I/O, no clock reads.
///
/// `READY=1` goes once, when every layer has greeted, every listener listens and the journal's unfinished
/// executions are resumed; `STATUS=` whenever the sentence changes; `WATCHDOG=1` whenever half the
/// watchdog interval has passed since the last one. `RELOADING=1` and `STOPPING=1` are sent by their
/// phases' first tick; a reload that ends sends `READY=1` again.
public struct NotifyPlan: Sendable {
    /// Where the daemon is in its life.
    public enum Phase: Sendable, Equatable {
        case starting, running, reloading, stopping
    }

    /// One look at the daemon.
    public struct Observation: Sendable, Equatable {
        public var phase: Phase
        /// Layers with a greeted process, out of `layers`; the names of those without one.
        public var layersReady: Int
        public var layers: Int
        public var layersDown: [String]
        public var listenersUp: Int
        public var listeners: Int
        /// The journal's unfinished executions have been resumed.
        public var recovered: Bool
        public var running: Int

        public init(phase: Phase, layersReady: Int, layers: Int, layersDown: [String] = [], listenersUp: Int,
                    listeners: Int, recovered: Bool, running: Int) {
            self.phase = phase
            self.layersReady = layersReady
            self.layers = layers
            self.layersDown = layersDown
            self.listenersUp = listenersUp
            self.listeners = listeners
            self.recovered = recovered
            self.running = running
        }

        /// Every layer greeted, every socket listens, recovery is done.
        public var isReady: Bool { layersReady == layers && listenersUp == listeners && recovered }
    }

    public let watchdogInterval: Duration?
    private var readySent = false
    private var lastPhase: Phase = .starting
    private var lastStatus = ""
    private var lastPing: ContinuousClock.Instant?

    public init(watchdogInterval: Duration?) {
        self.watchdogInterval = watchdogInterval
    }

    /// The notification lines to send now (empty: nothing to say).
    public mutating func tick(_ o: Observation, now: ContinuousClock.Instant) -> [String] {
        var lines: [String] = []
        if o.phase != lastPhase {
            if o.phase == .reloading { lines.append("RELOADING=1") }
            if o.phase == .stopping { lines.append("STOPPING=1") }
            // After a reload, READY=1 again, but only if the daemon had been ready before it.
            if lastPhase == .reloading && o.phase == .running && readySent { lines.append("READY=1") }
            lastPhase = o.phase
        }
        if o.phase == .running && !readySent && o.isReady {
            lines.append("READY=1")
            readySent = true
        }
        let status = Self.status(o)
        if status != lastStatus {
            lines.append("STATUS=" + status)
            lastStatus = status
        }
        if let interval = watchdogInterval, lastPing.map({ now - $0 >= interval }) ?? true {
            lines.append("WATCHDOG=1")
            lastPing = now
        }
        return lines
    }

    /// The one sentence `systemctl status` shows.
    public static func status(_ o: Observation) -> String {
        switch o.phase {
        case .stopping:
            return "draining: \(o.running) execution\(o.running == 1 ? "" : "s") still running"
        case .reloading:
            return "reloading the configuration; \(o.running) running"
        case .starting, .running:
            if o.layersReady < o.layers {
                let down = o.layersDown.prefix(6).joined(separator: ", ")
                return "starting layers: \(o.layersReady)/\(o.layers) ready" + (down.isEmpty ? "" : "; waiting for \(down)")
            }
            if !o.recovered { return "resuming unfinished executions" }
            if o.listenersUp < o.listeners { return "opening listeners: \(o.listenersUp)/\(o.listeners)" }
            return "ready: \(o.running) execution\(o.running == 1 ? "" : "s") running, \(o.layers) layers"
        }
    }
}
