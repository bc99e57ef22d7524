#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import JALMCapsule
import JALMCore
import JALMDocument
import JALMEngine
import JALMPlatform
import JALMSandbox
import JALMStore
import JALMSupervisor
import JALMWire

/// The composition root: the journal, the catalog, one supervisor per layer and the runner, run as one
/// `Service`. On graceful shutdown it drains: no new executions, running ones finish (bounded), layers
/// get `drain`, the journal is flushed.
public final class Kernel: Service, Sendable {
    public let config: KernelConfig
    let journal: SQLiteJournal
    public let catalog: Catalog
    public let layers: [String: LayerSupervisor]
    let runner: Runner
    public let startedAt = ContinuousClock.now
    let logger: Logger
    /// Readiness, status and watchdog for systemd (`Type=notify`); nil when not run by it.
    public let systemd: SystemdLink?
    /// Reloads (SIGHUP) run one at a time; the config they last applied.
    let reloadState: Mutex<ReloadState>

    public init(config: KernelConfig, logger: Logger, systemd: SystemdLink? = nil) throws {
        self.config = config
        self.logger = logger
        self.systemd = systemd
        let fm = FileManager.default
        let sandbox = try SandboxSetup(config: config, logger: logger)
        // Landlock can only grant a path that exists: make the layers' folders before any launch (read-write
        // ones for io-file and io-db, the read-only templates folder of render-html), owned by the plugins' user.
        let owner = sandbox.user
        // templates/ (render-html) and wasm/ (compute-script) are read-only to the layers; made here so that
        // their Landlock rule exists from the first start and the operator knows where to put files.
        for dir in ["files", "db", "script-tmp", "templates", "wasm"] {
            let path = config.dataDirectory + "/" + dir
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            if let owner, chown(path, owner.uid, owner.gid) != 0 {
                throw RunnerError(.internal, "cannot give \(path) to service_user \(owner.uid):\(owner.gid): errno \(errno)")
            }
        }
        // capsules/ holds the fragments capsules include; only the kernel reads it, so it stays the daemon's.
        try fm.createDirectory(atPath: config.dataDirectory + "/capsules", withIntermediateDirectories: true)
        self.catalog = try Catalog.load(directory: config.shareDirectory + "/kernel")
        // A journal of schema 1 (issues 2–8) is upgraded to events as it is opened, in one transaction.
        self.journal = try SQLiteJournal(path: config.dataDirectory + "/journal.sqlite",
                                         synchronous: config.journalSynchronous, groupDelay: config.journalGroupDelay,
                                         upgrade: LegacyJournal.upgrade(catalog: catalog))
        var layers: [String: LayerSupervisor] = [:]
        let journal = self.journal
        for info in catalog.layers {
            let dir = config.shareDirectory + "/plugins/" + info.name
            guard let data = fm.contents(atPath: dir + "/plugin.yml") else {
                throw RunnerError(.notFound, "no manifest for layer \(info.name) at \(dir)/plugin.yml")
            }
            let manifest = try LayerManifest.parse(Document.parse(Array(data), contentType: "yaml"), directory: dir)
            let required = Set(catalog.cards.filter { $0.layer == info.name }.map(\.op))
            let config = self.config
            layers[info.name] = try LayerSupervisor(
                manifest: manifest, settings: config.supervisor, requiredOps: required, logger: logger,
                confine: { m in
                    try sandbox.confinement(for: m, executable: m.executablePath(binDirectory: config.binDirectory))
                }
            ) { event, detail in
                journal.record(LayerEventRecord(at: epochMilliseconds(), layer: info.name, event: event, detail: detail))
            }
        }
        self.layers = layers
        // What a reload compares against: the files as they were when these generations were made.
        self.reloadState = Mutex(ReloadState(applied: config, layerFiles: Self.layerFiles(config, layers: Array(layers.keys))))
        let catalog = self.catalog
        let catalogOps = Dictionary(grouping: catalog.cards, by: \.layer).mapValues { Set($0.map(\.op)) }
        self.runner = Runner(journal: journal, layers: SupervisorDispatch(layers: layers, catalogOps: catalogOps),
                             catalog: catalog, secrets: config.supervisor.secrets, timers: SharedTimers(),
                             settings: config.runner, logger: logger, now: { epochMilliseconds() },
                             fragments: CapsuleFolder(root: config.dataDirectory + "/capsules"))
    }

    /// Starts every layer and waits (up to the hello timeout) until each has greeted, then resumes the journal.
    public func start() async {
        for l in layers.values { l.start() }
        let deadline = ContinuousClock.now + config.supervisor.helloTimeout
        while ContinuousClock.now < deadline, !layers.values.allSatisfy({ $0.isReady || $0.quarantineReason != nil }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
        let down = layers.values.filter { !$0.isReady }.map(\.name).sorted()
        if down.isEmpty {
            logger.notice("all layers ready", metadata: ["kernel.layers": "\(layers.count)"])
        } else {
            logger.error("layers not ready at start", metadata: ["kernel.down": "\(down.joined(separator: ","))"])
        }
        await runner.recover()
        systemd?.recovered()
    }

    public func run() async throws {
        // Each supervisor's ping loop and deadline sweep run beside the kernel as child tasks: each ends when
        // its layer drains (the end of `shutdown`), and whatever is left is cancelled after it.
        await withDiscardingTaskGroup { group in
            for l in layers.values { group.addTask { try? await SupervisorLoops(l).run() } }
            let notifyLoop = systemd.map { link in Task { await link.run(kernel: self) } }
            await start()
            systemd?.setPhase(.running)
            try? await gracefulShutdown()
            systemd?.setPhase(.stopping)
            systemd?.send(kernel: self)
            await shutdown()
            notifyLoop?.cancel()
            group.cancelAll()
        }
    }

    public func shutdown() async {
        logger.notice("draining", metadata: ["engine.running": "\(runner.runningCount)"])
        await runner.drain()
        await withTaskGroup(of: Void.self) { group in
            for l in layers.values { group.addTask { await l.drain(timeout: self.config.supervisor.drainTimeout) } }
        }
        for l in layers.values { l.confinement?.removeLeaves() }
        journal.close()
        logger.notice("stopped")
    }

    /// Layers that run with less confinement than `enforce` gives: said loudly by /health and /layers.
    public var sandboxWarnings: [String] {
        layers.values.sorted(by: { $0.name < $1.name }).compactMap { l in
            guard let c = l.confinement else { return "\(l.name): sandbox off: running unconfined" }
            return c.cgroups == nil ? "\(l.name): sandbox degraded: no memory, pids or cpu limits" : nil
        }
    }

    /// `GET /health`: ready when every layer is.
    public var health: (ok: Bool, reasons: [String]) {
        var reasons: [String] = []
        for l in layers.values.sorted(by: { $0.name < $1.name }) where !l.isReady {
            reasons.append("\(l.name): " + (l.quarantineReason.map { "quarantined: \($0)" } ?? "not ready"))
        }
        return (reasons.isEmpty, reasons)
    }
}
