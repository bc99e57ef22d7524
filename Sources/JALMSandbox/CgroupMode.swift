import CPosix

/// Which cgroup interface limits layers on this host.
public enum CgroupMode: String, Sendable, Hashable, CustomStringConvertible {
    /// The unified hierarchy (a systemd host with `Delegate=yes`).
    case v2
    /// The legacy per-controller hierarchies `memory`, `pids` and `cpu`.
    case v1
    /// Neither is usable: no limit can be applied.
    case none

    public var description: String { rawValue }

    /// statfs(2) magic numbers (linux/magic.h).
    static let cgroup2Magic: Int64 = 0x6367_7270
    static let cgroup1Magic: Int64 = 0x0027_E0EB
    /// The controllers a layer's limits need.
    public static let controllers = ["memory", "pids", "cpu"]

    /// Detects the mode of the hierarchy mounted at `root` (normally `/sys/fs/cgroup`).
    ///
    /// A cgroup2 mount at `root` is `.v2` when the daemon's own cgroup offers memory, pids and cpu and
    /// its `cgroup.subtree_control` is writable; otherwise `.v1` when `root/{memory,pids,cpu}` are v1
    /// hierarchies with a writable own folder; otherwise `.none`. A hybrid host (cgroup2 only at
    /// `root/unified`, as here) is v1.
    public static func detect(root: String = "/sys/fs/cgroup", selfCgroup: String? = nil) -> CgroupMode {
        let own = CgroupManager.parseOwnPaths(selfCgroup ?? SysFile.read("/proc/self/cgroup") ?? "")
        if jalm_statfs_type(root) == cgroup2Magic {
            return v2Usable(root: root, own: own[""]) ? .v2 : .none
        }
        let v1 = controllers.allSatisfy { c in
            guard jalm_statfs_type(root + "/" + c) == cgroup1Magic, let path = own[c] else { return false }
            return SysFile.isWritable(Placeholders.normalize(root + "/" + c + path))
        }
        return v1 ? .v1 : .none
    }

    static func v2Usable(root: String, own: String?) -> Bool {
        guard let own = own.map(CgroupManager.v2Own), own != "/" else { return false }
        let dir = Placeholders.normalize(root + own)
        let available = (SysFile.read(dir + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        return controllers.allSatisfy { available.contains(Substring($0)) }
            && SysFile.isWritable(dir + "/cgroup.subtree_control")
    }
}
