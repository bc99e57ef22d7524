#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMCore
import JALMSandbox
import JALMWire

/// How one layer's processes are confined: its effective policy, its limits, one cgroup leaf per pool
/// slot, the launcher command line, and the audit every process must pass before it gets a call.
public final class LayerConfinement: Sendable {
    public let layer: String
    public let mode: SandboxMode
    public let policy: EffectivePolicy
    public let limits: ResourceLimits
    /// Where its cgroup leaves are made; nil when it runs without cgroup limits (`sandbox: degraded`).
    public let cgroups: CgroupManager?
    let launcherPath: String
    let user: ServiceUser?
    /// Distinguishes this daemon's cgroup leaves from another's on the same host (a hash of its data folder).
    let instance: String
    private let leaves = Mutex<[Int: CgroupLeaf]>([:])
    /// The kernel's Landlock ABI does not change while jalmd runs: asked once.
    let landlockABI = Landlock.abiVersion()

    public init(layer: String, mode: SandboxMode, policy: EffectivePolicy, limits: ResourceLimits,
                cgroups: CgroupManager?, launcherPath: String, user: ServiceUser?, instance: String) {
        self.instance = instance
        self.layer = layer
        self.mode = mode
        self.policy = policy
        self.limits = limits
        self.cgroups = cgroups
        self.launcherPath = launcherPath
        self.user = user
    }

    public var modeName: String {
        cgroups == nil ? "\(mode.rawValue) (no cgroup limits)" : mode.rawValue
    }

    struct Launch {
        var path: String
        var arguments: [String]
        var leaf: CgroupLeaf?
    }

    /// The launcher command for a process of pool slot `slot`: its cgroup leaf is made (once) and joined.
    func prepare(slot: Int, executable: String, arguments: [String]) throws(RunnerError) -> Launch {
        let leaf = try leaf(for: slot)
        let delegated = policy.delegatesCgroup ? try leaf?.delegatedDirectories() ?? [] : []
        if let user { for dir in delegated { _ = chown(dir, user.uid, user.gid) } }
        let options = policy.launcherArguments(
            cgroupDirectories: leaf?.directories ?? [], user: user.map { ($0.uid, $0.gid) },
            delegatedCgroupDirectories: delegated)
        return Launch(path: launcherPath, arguments: options + ["--", executable] + arguments, leaf: leaf)
    }

    private func leaf(for slot: Int) throws(RunnerError) -> CgroupLeaf? {
        if let existing = leaves.withLock({ $0[slot] }) { return existing }
        guard let cgroups else {
            guard mode == .degraded else {
                throw RunnerError(.sandboxViolation, "no cgroup controllers to limit \(layer) (memory, pids, cpu); "
                    + "the layer does not start unless the config says `sandbox: degraded`")
            }
            return nil
        }
        let leaf = try cgroups.prepare(name: "\(instance)-\(layer)-\(slot)", limits: limits)
        leaves.withLock { $0[slot] = leaf }
        return leaf
    }

    /// Reads a running process's confinement from /proc once: what is wrong with it (empty when it
    /// passes) and what was seen, for GET /layers.
    func audit(pid: Int32, leaf: CgroupLeaf?) -> (failures: [String], report: JSONValue) {
        let seen: ProcessConfinement
        do {
            seen = try ProcessAudit.inspect(pid: pid)
        } catch {
            return (["cannot read /proc/\(pid): \(error)"], .null)
        }
        let failures = seen.check(against: ExpectedConfinement(
            namespaces: policy.namespaces, cgroupDirectories: leaf?.directories ?? []))
        var report = seen.json.objectValue ?? [:]
        report["landlock_abi"] = .int(Int64(landlockABI))
        return (failures, .object(report))
    }

    /// The report with the limits and the current usage of the process's cgroup.
    func usage(report: JSONValue, leaf: CgroupLeaf?) -> JSONValue {
        var o = report.objectValue ?? [:]
        o["limits"] = limits.json
        if let leaf { o["usage"] = leaf.usage().json }
        return .object(o)
    }

    /// `jalm sandbox check LAYER`.
    public func json(executable: String, arguments: [String]) -> JSONValue {
        let launch = policy.launcherArguments(cgroupDirectories: ["<cgroup leaf>"], user: user.map { ($0.uid, $0.gid) })
        return [
            "layer": .string(layer), "mode": .string(modeName),
            "cgroup_mode": .string(cgroups.map { "\($0.mode)" } ?? "none"),
            "landlock_abi": .int(Int64(landlockABI)),
            "policy": policy.json, "limits": limits.json,
            "launcher": .array(([launcherPath] + launch + ["--", executable] + arguments).map { .string($0) }),
        ]
    }

    /// Removes the cgroup leaves (at shutdown, after the processes are gone).
    public func removeLeaves() {
        for leaf in leaves.withLock({ Array($0.values) }) { _ = leaf.remove() }
    }
}

/// The user plugins run as (`service_user` in the config).
public struct ServiceUser: Sendable {
    public var uid: UInt32
    public var gid: UInt32

    /// `name` or `uid:gid`.
    public static func resolve(_ text: String) throws(RunnerError) -> ServiceUser {
        let parts = text.split(separator: ":")
        if parts.count == 2, let u = UInt32(parts[0]), let g = UInt32(parts[1]) { return ServiceUser(uid: u, gid: g) }
        guard let pw = getpwnam(text) else {
            throw RunnerError(.invalidInput, "service_user \"\(text)\" is neither a user name nor uid:gid",
                              pointer: "/service_user")
        }
        return ServiceUser(uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }
}
