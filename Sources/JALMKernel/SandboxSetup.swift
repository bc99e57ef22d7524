#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import JALMCore
import JALMSandbox
import JALMSupervisor
import JALMWire

/// Builds each layer's confinement from the config, `sandbox/<layer>.yml` and the manifest's limits,
/// once at start, so that a bad policy stops jalmd with a clear error rather than a plugin at random.
struct SandboxSetup: Sendable {
    let config: KernelConfig
    let logger: Logger
    let cgroups: CgroupManager?
    let user: ServiceUser?
    /// Read once from /proc/self/maps: every swap would otherwise read it again.
    let swiftRuntime: String

    init(config: KernelConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.swiftRuntime = Self.swiftRuntimeDirectory() ?? "/usr/lib/swift/linux"
        self.user = try config.serviceUser.map { name throws(RunnerError) in try ServiceUser.resolve(name) }
        guard config.sandbox != .off else {
            logger.warning("sandbox: off — plugins run unconfined; use this for development only")
            self.cgroups = nil
            return
        }
        let mode = CgroupMode.detect(root: config.cgroupRoot)
        if mode == .none {
            let message = "no usable cgroup controllers (memory, pids, cpu) under \(config.cgroupRoot)"
            guard config.sandbox == .degraded else {
                throw RunnerError(.sandboxViolation, message + "; layers cannot be limited. Run under systemd with "
                    + "Delegate=yes, or set `sandbox: degraded` to run without limits")
            }
            logger.critical("sandbox degraded: \(message); layers run WITHOUT memory, pids and cpu limits")
            self.cgroups = nil
        } else {
            self.cgroups = CgroupManager(mode: mode, root: config.cgroupRoot)
        }
        let abi = Landlock.abiVersion()
        logger.notice("sandbox", metadata: [
            "sandbox.mode": "\(config.sandbox.rawValue)", "sandbox.cgroups": "\(mode)", "sandbox.landlock_abi": "\(abi)",
        ])
    }

    func confinement(for manifest: LayerManifest, executable: String) throws -> LayerConfinement? {
        guard config.sandbox != .off else { return nil }
        let sandboxDirectory = config.shareDirectory + "/sandbox"
        let policy = try manifest.policy.map { file throws(RunnerError) in
            try SandboxPolicy.load(layer: manifest.name, file: file, groupsDirectory: sandboxDirectory)
        } ?? SandboxPolicy.load(layer: manifest.name, directory: sandboxDirectory)
        let placeholders = [
            "data": config.dataDirectory, "bin": config.binDirectory, "share": config.shareDirectory,
            "exe": executable, "plugin": manifest.directory, "swift_runtime": swiftRuntime,
        ]
        return LayerConfinement(
            layer: manifest.name, mode: config.sandbox, policy: policy.effective(placeholders: placeholders),
            limits: try ResourceLimits.parse(manifest.limits), cgroups: cgroups,
            launcherPath: config.binDirectory + "/jalm-launch", user: user, instance: Self.instance(config.dataDirectory))
    }

    /// A short, stable name for this daemon: FNV-1a of its data folder, so restarts reuse their leaves.
    static func instance(_ dataDirectory: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in dataDirectory.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h & 0xFFFF_FFFF, radix: 16)
    }

    /// The folder of the libswiftCore.so this process loaded: plugins built with the same toolchain load
    /// theirs from there, so Landlock must let them read it.
    static func swiftRuntimeDirectory() -> String? {
        // procfs files report size 0, so read them to EOF rather than by their stat size.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            return (String(line[slash...]) as NSString).deletingLastPathComponent
        }
        return nil
    }
}
