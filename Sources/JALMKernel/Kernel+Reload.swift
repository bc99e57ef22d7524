import Foundation
import Logging
import JALMCapsule
import JALMCore
import JALMDocument
import JALMSupervisor
import JALMWire

/// What the last reload applied: the config, and each layer's files as they were read.
struct ReloadState: Sendable {
    var applied: KernelConfig
    var layerFiles: [String: String] = [:]
    var busy = false
}

/// What one reload (SIGHUP, `systemctl reload jalmd`) did.
public struct ReloadReport: Sendable {
    /// Layers swapped to a new generation (settings, manifest or policy changed), and why.
    public var swapped: [String: String] = [:]
    /// Layers whose swap failed: the old generation keeps serving.
    public var failed: [String: String] = [:]
    /// Keys that changed but only take effect at the next start.
    public var needsRestart: [String] = []
}

extension Kernel {
    /// Applies `new` without dropping work. Live: each layer whose `layers.<name>` settings, `plugin.yml`
    /// or sandbox policy changed is swapped to a new generation (new processes greet and are audited before
    /// they take calls; the old ones finish theirs, bounded by `drain_timeout`), which also re-reads the
    /// secrets its settings name. Everything else is compared and, when changed, logged as needing a restart.
    public func reload(_ new: KernelConfig) async -> ReloadReport {
        var report = ReloadReport()
        let began = reloadState.withLock { s -> KernelConfig? in
            guard !s.busy else { return nil }
            s.busy = true
            return s.applied
        }
        guard let old = began else {
            logger.warning("reload ignored: another reload is still running")
            return report
        }
        systemd?.setPhase(.reloading)
        systemd?.send(kernel: self)
        report.needsRestart = Self.restartOnlyChanges(from: old, to: new)
        let files = Self.layerFiles(new, layers: Array(layers.keys))
        let oldFiles = reloadState.withLock { $0.layerFiles }
        for name in layers.keys.sorted() {
            var why: [String] = []
            if old.supervisor.layerConfig[name] != new.supervisor.layerConfig[name] { why.append("layers.\(name)") }
            if oldFiles[name] != files[name] { why.append("plugin.yml or sandbox policy") }
            guard !why.isEmpty, let layer = layers[name] else { continue }
            do {
                let manifest = try loadManifest(name, share: config.shareDirectory)
                layer.reconfigure(layerConfig: new.supervisor.layerConfig[name])
                _ = try await layer.swap(to: manifest, timeout: config.runner.drainTimeout, by: "reload")
                report.swapped[name] = why.joined(separator: ", ")
            } catch {
                report.failed[name] = "\(error)"
            }
        }
        reloadState.withLock { s in
            s.applied = new
            s.layerFiles = files
            s.busy = false
        }
        log(report)
        systemd?.setPhase(.running)
        systemd?.send(kernel: self)
        return report
    }

    func log(_ report: ReloadReport) {
        for (name, why) in report.swapped.sorted(by: { $0.key < $1.key }) {
            logger.notice("reload: layer swapped", metadata: ["layer.name": "\(name)", "reload.changed": "\(why)"])
        }
        for (name, why) in report.failed.sorted(by: { $0.key < $1.key }) {
            logger.error("reload: layer swap failed; the old generation keeps serving",
                         metadata: ["layer.name": "\(name)", "layer.reason": "\(why)"])
        }
        for key in report.needsRestart {
            logger.warning("reload: setting changed but applies only at the next start (systemctl restart jalmd)",
                           metadata: ["reload.key": "\(key)"])
        }
        logger.notice("reloaded", metadata: ["reload.swapped": "\(report.swapped.count)",
                                             "reload.failed": "\(report.failed.count)",
                                             "reload.restart_needed": "\(report.needsRestart.count)"])
    }

    func loadManifest(_ name: String, share: String) throws -> LayerManifest {
        let dir = share + "/plugins/" + name
        guard let data = FileManager.default.contents(atPath: dir + "/plugin.yml") else {
            throw RunnerError(.notFound, "no manifest for layer \(name) at \(dir)/plugin.yml")
        }
        return try LayerManifest.parse(Document.parse(Array(data), contentType: "yaml"), directory: dir)
    }

    /// Each layer's manifest and policy texts (with the shared syscall groups): a change means a swap.
    static func layerFiles(_ c: KernelConfig, layers: [String]) -> [String: String] {
        let fm = FileManager.default
        func text(_ path: String) -> String { fm.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let groups = text(c.shareDirectory + "/sandbox/groups.yml")
        var out: [String: String] = [:]
        for name in layers {
            let manifest = text(c.shareDirectory + "/plugins/\(name)/plugin.yml")
            out[name] = manifest + "\u{0}" + text(c.shareDirectory + "/sandbox/\(name).yml") + "\u{0}" + groups
        }
        return out
    }

    /// The keys that differ between `old` and `new` and that a running daemon cannot take over: the
    /// listeners, the data and share folders, the journal, the sandbox mode, and every supervision and
    /// engine timing (each supervisor and the engine hold their settings for their whole life).
    static func restartOnlyChanges(from old: KernelConfig, to new: KernelConfig) -> [String] {
        let o = restartOnlyFields(old), n = restartOnlyFields(new)
        return o.keys.sorted().filter { o[$0] != n[$0] }
    }

    static func restartOnlyFields(_ c: KernelConfig) -> [String: String] {
        let s = c.supervisor
        return [
            "data": c.dataDirectory, "socket": c.resolvedSocketPath, "listen": c.listen ?? "none",
            "token": c.token ?? "",  // compared only; reports name the key, never the value
            "share": c.shareDirectory, "bin": c.binDirectory, "max_body_bytes": "\(c.maxBodyBytes)",
            "http_idle_timeout": "\(c.httpIdleTimeout)", "max_frame_bytes": "\(s.maxFrameSize)",
            "max_restarts": "\(s.restart.maxRestarts)", "restart_window": "\(s.restart.window)",
            "restart_base_delay": "\(s.restart.baseDelay)", "restart_max_delay": "\(s.restart.maxDelay)",
            "restart_stable_after": "\(s.restart.stableAfter)", "hello_timeout": "\(s.helloTimeout)",
            "ping_interval": "\(s.pingInterval)", "ping_timeout": "\(s.pingTimeout)",
            "cancel_grace": "\(s.cancelGrace)", "layer_drain_timeout": "\(s.drainTimeout)",
            "drain_timeout": "\(c.runner.drainTimeout)", "journal_sync": "\(c.journalSynchronous)",
            "idempotency_retention": "\(c.runner.idempotencyRetention)",
            "journal_group_delay": "\(c.journalGroupDelay)",
            "include_max_depth": "\(c.runner.includeLimits.maxDepth)",
            "include_max_fragment_bytes": "\(c.runner.includeLimits.maxFragmentBytes)",
            "include_max_expanded_bytes": "\(c.runner.includeLimits.maxExpandedBytes)",
            "sandbox": c.sandbox.rawValue, "service_user": c.serviceUser ?? "", "cgroup_root": c.cgroupRoot,
            "secrets_dir": c.secretsDirectory ?? "",
        ]
    }
}
