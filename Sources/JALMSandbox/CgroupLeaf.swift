#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import JALMWire

/// One layer process's cgroup: the folders the launcher joins, and what they say about it.
public struct CgroupLeaf: Sendable, Hashable {
    public let mode: CgroupMode
    public let name: String
    /// Every folder the process must join (`jalm-launch --cgroup`): v1 memory, pids, cpu; v2 the one leaf.
    public let directories: [String]
    let memoryDirectory: String
    let pidsDirectory: String

    public init(mode: CgroupMode, name: String, directories: [String], memoryDirectory: String, pidsDirectory: String) {
        self.mode = mode
        self.name = name
        self.directories = directories
        self.memoryDirectory = memoryDirectory
        self.pidsDirectory = pidsDirectory
    }

    /// Memory in use, tasks, and OOM kills so far.
    public func usage() -> CgroupUsage {
        let v1 = mode == .v1
        return CgroupUsage(
            memoryBytes: number(memoryDirectory + (v1 ? "/memory.usage_in_bytes" : "/memory.current")) ?? 0,
            memoryPeakBytes: number(memoryDirectory + (v1 ? "/memory.max_usage_in_bytes" : "/memory.peak")),
            pids: Int(number(pidsDirectory + "/pids.current") ?? 0),
            oomKills: oomKills())
    }

    /// OOM kills in this leaf since it was made: the `oom_kill N` line of memory.oom_control (v1) or
    /// memory.events (v2). A process that died by SIGKILL while this grew was killed by the OOM killer.
    public func oomKills() -> Int {
        let file = memoryDirectory + (mode == .v1 ? "/memory.oom_control" : "/memory.events")
        for line in (SysFile.read(file) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == "oom_kill", let n = Int(parts[1]) { return n }
        }
        return 0
    }

    /// For a layer that makes cgroups of its own (compute-script: one per run), the folders it may write:
    /// v1 a `runs` folder made in each controller's leaf, so it can make and limit cgroups beneath
    /// `runs` but never rewrite its own leaf's limits; v2 the leaf itself, since the layer must move into
    /// `<leaf>/layer` and enable the controllers for the leaf's children (v2 lets no cgroup with
    /// processes do that) — there a layer could also rewrite its own leaf's limits (docs/security.md).
    public func delegatedDirectories() throws(RunnerError) -> [String] {
        guard mode == .v1 else { return directories }
        return try directories.map { dir throws(RunnerError) in
            let runs = dir + "/runs"
            let e = SysFile.makeDirectory(runs)
            guard e == 0 || e == EEXIST else {
                throw RunnerError(.sandboxViolation, "mkdir \(runs): \(SysFile.errnoText(e))")
            }
            return runs
        }
    }

    /// Removes each folder; one still holding a process (EBUSY) or already gone (ENOENT) is left as is.
    /// Returns the folders that could not be removed for another reason.
    @discardableResult
    public func remove() -> [String] {
        if mode == .v1 { for dir in directories { _ = rmdir(dir + "/runs") } }
        return directories.filter { rmdir($0) != 0 && errno != EBUSY && errno != ENOENT }
    }

    func number(_ path: String) -> Int64? {
        SysFile.read(path).flatMap { Int64($0.split(separator: "\n").first ?? "") }
    }
}

/// What a leaf uses now (GET /layers).
public struct CgroupUsage: Sendable, Hashable {
    public var memoryBytes: Int64
    /// The highest memory use seen, where the kernel reports it (v1 always; v2 from Linux 5.19).
    public var memoryPeakBytes: Int64?
    public var pids: Int
    public var oomKills: Int

    public init(memoryBytes: Int64, memoryPeakBytes: Int64?, pids: Int, oomKills: Int) {
        self.memoryBytes = memoryBytes
        self.memoryPeakBytes = memoryPeakBytes
        self.pids = pids
        self.oomKills = oomKills
    }

    /// `{memory_bytes, memory_peak_bytes?, pids, oom_kills}`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["memory_bytes": .int(memoryBytes), "pids": .int(Int64(pids)),
                                      "oom_kills": .int(Int64(oomKills))]
        if let memoryPeakBytes { o["memory_peak_bytes"] = .int(memoryPeakBytes) }
        return .object(o)
    }
}
