#if canImport(Glibc)
import Glibc
#endif
import Logging
import JALMCore
import JALMPlatform
import JALMSandbox
import JALMWire

extension LayerSupervisor {
    /// The executable a manifest names: a bare name from the binary folder, a path relative to the manifest.
    public var executablePath: String { executablePath(of: manifest) }

    func executablePath(of manifest: LayerManifest) -> String {
        manifest.executablePath(binDirectory: settings.binDirectory)
    }

    /// Starts one process of `generation` through the launcher (or directly, sandbox off) and starts reading
    /// its channel; `route` receives its events. The process is nobody's slot yet.
    func startProcess(_ generation: Generation, leafSlot: Int,
                      route: @escaping @Sendable (ChannelEvent, LayerProcess) -> Void) async -> Result<LayerProcess, Failure> {
        let manifest = generation.manifest
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return .failure(Failure("socketpair failed: errno \(errno)"))
        }
        var env = manifest.environment
        for key in ["PATH", "HOME", "LANG", "TZ"] { if let v = getenv(key) { env[key] = env[key] ?? String(cString: v) } }
        env[SpawnEnvironment.fd] = String(SpawnEnvironment.channelFD)
        env[SpawnEnvironment.layer] = name
        env[SpawnEnvironment.data] = settings.dataDirectory
        env[SpawnEnvironment.maxFrame] = String(settings.maxFrameSize)
        env[SpawnEnvironment.maxInflight] = String(manifest.maxInflight)
        if let config = reloadedConfig.withLock({ $0 }) ?? settings.layerConfig[name] {
            do {
                env[SpawnEnvironment.layerConfig] = JSONWriter.string(try settings.secrets.resolvingReferences(in: config))
            } catch {
                close(fds[0])
                close(fds[1])
                return .failure(Failure("cannot configure \(name): \(error.message)"))
            }
        }
        var path = executablePath(of: manifest)
        var arguments = manifest.arguments
        var leaf: CgroupLeaf?
        if let confinement = generation.confinement {
            do {
                let launch = try confinement.prepare(slot: leafSlot, executable: path, arguments: arguments)
                (path, arguments, leaf) = (launch.path, launch.arguments, launch.leaf)
            } catch {
                close(fds[0])
                close(fds[1])
                return .failure(Failure("cannot confine \(name): \(error)"))
            }
        }
        let errFD = StderrPump.start(layer: name, logger: logger)
        // Opened before the plugin runs, so that it reads only this process's records (sandbox on only).
        let cursor = generation.confinement == nil ? -1 : KernelLog.openCursor()
        let pid = await Spawner.shared.spawn(.init(
            path: path, arguments: arguments, environment: env, childFD: fds[1], stderrFD: errFD,
            directory: manifest.directory))
        close(fds[1])
        if errFD >= 0 { close(errFD) }
        guard pid > 0 else {
            close(fds[0])
            if cursor >= 0 { close(cursor) }
            return .failure(Failure("cannot start \(path): errno \(-pid)"))
        }
        let number = state.withLock { s -> Int in s.generation += 1; return s.generation }
        let box = ProcessBox()
        let channel = LayerChannel(
            fd: fds[0], layer: name, maxFrameSize: settings.maxFrameSize,
            explainEOF: { box.process?.explainExit() }
        ) { event in
            if let p = box.process { route(event, p) }
        }
        let process = LayerProcess(pid: pid, channel: channel, generation: number, leaf: leaf,
                                   memoryLimitBytes: generation.confinement?.limits.memoryBytes,
                                   kernelLogCursor: cursor)
        box.process = process
        return .success(process)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func spawn(slot i: Int) async {
        let (generation, leafSlot) = state.withLock { ($0.current, i + $0.leafOffset) }
        let started = await startProcess(generation, leafSlot: leafSlot) { [self] event, p in
            self.handle(event, from: p, slot: i)
        }
        let process: LayerProcess
        switch started {
        case .failure(let f):
            processFailed(slot: i, process: nil, reason: f.description)
            return
        case .success(let p):
            process = p
        }
        let stale = state.withLock { s -> Bool in
            if s.stopping { return true }
            s.slots[i].process = process
            s.slots[i].machine.spawned(at: .now)
            return false
        }
        process.channel.start()
        if stale {
            process.kill()
            return
        }
        logger.info("layer process spawned", metadata: [
            "layer.pid": "\(process.pid)", "layer.generation": "\(process.generation)",
        ])
        Timers.shared.schedule(after: settings.helloTimeout) { [self] in
            let silent = state.withLock { s in s.slots[i].process === process && process.hello == nil }
            if silent {
                process.channel.close(reason: "did not say hello within \(settings.helloTimeout)")
                process.kill()
            }
        }
    }

    /// What must hold of a greeting process before it gets a call: every op the catalog routes to the
    /// layer, and (sandbox on) a passing confinement audit. Nil when it passes.
    func admissionProblem(_ h: Hello, _ process: LayerProcess, confinement: LayerConfinement?) -> (ErrorCode, String)? {
        let missing = requiredOps.subtracting(h.ops)
        guard missing.isEmpty else {
            return (.protocolError, "does not implement ops the catalog routes to it: "
                + missing.sorted().joined(separator: ", "))
        }
        if let confinement {
            let (failures, report) = confinement.audit(pid: process.pid, leaf: process.leaf)
            guard failures.isEmpty else {
                recordEvent("audit_failed", ["pid": .int(Int64(process.pid)),
                                             "failures": .array(failures.map { .string($0) })])
                return (.sandboxViolation, "failed the confinement audit: " + failures.joined(separator: "; "))
            }
            process.confinement = report
        }
        return nil
    }

    func handle(_ event: ChannelEvent, from process: LayerProcess, slot i: Int) {
        switch event {
        case .hello(let h):
            if let (code, why) = admissionProblem(h, process, confinement: confinement) {
                process.channel.close(reason: why, code: code)
                process.kill()
                return
            }
            process.greeted(h)
            state.withLock { s in
                if s.slots[i].process === process { s.slots[i].machine.greeted(at: .now) }
            }
            logger.info("layer ready", metadata: [
                "layer.pid": "\(process.pid)", "layer.version": "\(h.version)", "layer.ops": "\(h.ops.count)",
            ])
            wakeAll()
        case .pong:
            process.ponged()
        case .log(let r):
            var meta: Logger.Metadata = ["layer.pid": "\(process.pid)"]
            for (k, v) in r.fields { meta["plugin.\(k)"] = "\(v)" }
            logger.log(level: Logger.Level(rawValue: r.level) ?? .info, "\(r.message)", metadata: meta)
        case .closed(let reason):
            let (code, _) = process.explainExit()
            let status = LayerProcess.describe(process.reap())
            countViolation(code)
            if code == .sandboxViolation || code == .resourceExhausted {
                recordEvent(code == .sandboxViolation ? "sandbox_violation" : "oom_kill",
                            ["pid": .int(Int64(process.pid)), "reason": .string(reason)])
            }
            processFailed(slot: i, process: process, reason: reason.contains(status) ? reason : "\(reason); \(status)")
        }
    }

    /// A process is gone (or never started): ask the state machine what to do, then do it.
    func processFailed(slot i: Int, process: LayerProcess?, reason: String) {
        let action = state.withLock { s -> SupervisorStateMachine.Action in
            if let process {
                guard s.slots[i].process === process else { return .none }
                s.slots[i].process = nil
            }
            return s.slots[i].machine.failed(at: .now, reason: reason)
        }
        switch action {
        case .none:
            logger.info("layer process ended", metadata: ["layer.reason": "\(reason)"])
        case .spawn:
            Task { await self.spawn(slot: i) }
        case .respawn(let delay):
            logger.warning("layer process failed; restarting", metadata: [
                "layer.reason": "\(reason)", "layer.restart_in_ms": "\(delay.milliseconds)",
            ])
            recordEvent("restart", ["reason": .string(reason), "delay_ms": .int(delay.milliseconds)])
            Timers.shared.schedule(after: delay) { [self] in
                let go = state.withLock { $0.slots[i].machine.backoffElapsed(at: .now) }
                if go == .spawn { Task { await self.spawn(slot: i) } }
            }
        case .quarantine(let why):
            logger.error("layer quarantined", metadata: ["layer.reason": "\(why)"])
            recordEvent("quarantine", ["reason": .string(why)])
        }
        wakeAll()
    }
}

/// Lets the channel's event handler reach the process that owns the channel (created after it).
final class ProcessBox: @unchecked Sendable {
    var process: LayerProcess?
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
