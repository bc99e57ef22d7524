import Foundation
import JALMCore
import JALMSandbox
import Testing

/// The cgroup manager against a folder of plain files laid out like /sys/fs/cgroup.
@Suite struct CgroupFakeRootTests {
    static let limits = ResourceLimits(memoryBytes: 256 << 20, pids: 64, cpu: 0.5)

    /// Every file under `root` that is not beneath one of `own`, with its contents.
    func outside(_ root: String, own: [String]) -> [String: String] {
        var seen: [String: String] = [:]
        let e = FileManager.default.enumerator(atPath: root)
        while let rel = e?.nextObject() as? String {
            let full = root + "/" + rel
            if own.contains(where: { full == $0 || full.hasPrefix($0 + "/") }) { continue }
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: full, isDirectory: &isDir)
            seen[rel] = isDir.boolValue ? "<dir>" : (try? String(contentsOfFile: full, encoding: .utf8)) ?? ""
        }
        return seen
    }

    func v1Root() throws -> TempFolder {
        let root = try TempFolder("cg1")
        for c in ["memory/a/b", "memory/a/sibling", "pids", "cpu/c"] { try root.mkdir(c) }
        try root.write("memory/memory.limit_in_bytes", "9223372036854771712")
        try root.write("memory/a/memory.limit_in_bytes", "1073741824")
        try root.write("memory/a/sibling/memory.limit_in_bytes", "1")
        try root.write("pids/pids.max", "max")
        try root.write("cpu/cpu.cfs_quota_us", "-1")
        // An existing leaf with swap accounting: reused, and memsw follows the memory limit.
        try root.write("memory/a/b/jalm/io-file-0/memory.memsw.limit_in_bytes", "9223372036854771712")
        return root
    }

    static let v1Self = "9:pids:/\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/\n"

    @Test func v1MakesOneLeafPerControllerBeneathTheOwnPathsWithTheLimits() throws {
        let root = try v1Root()
        defer { root.remove() }
        let m = CgroupManager(mode: .v1, root: root.path, selfCgroup: Self.v1Self)
        #expect(m.ownPath(controller: "memory") == "/a/b")
        #expect(m.ownPath(controller: "cpuacct") == "/c")
        let leaf = try m.prepare(name: "io-file-0", limits: Self.limits)
        #expect(leaf.directories == [root.path + "/memory/a/b/jalm/io-file-0", root.path + "/pids/jalm/io-file-0",
                                     root.path + "/cpu/c/jalm/io-file-0"])
        #expect(root.read("memory/a/b/jalm/io-file-0/memory.limit_in_bytes") == String(256 << 20))
        #expect(root.read("memory/a/b/jalm/io-file-0/memory.memsw.limit_in_bytes") == String(256 << 20))
        #expect(root.read("pids/jalm/io-file-0/pids.max") == "64")
        #expect(root.read("cpu/c/jalm/io-file-0/cpu.cfs_period_us") == "100000")
        #expect(root.read("cpu/c/jalm/io-file-0/cpu.cfs_quota_us") == "50000")
        #expect(root.read("memory/a/b/jalm/io-file-0/memory.oom_control") == nil, "oom_control stays as the kernel has it")
    }

    @Test func nothingIsWrittenOutsideTheOwnSubtree() throws {
        let root = try v1Root()
        defer { root.remove() }
        let own = [root.path + "/memory/a/b", root.path + "/pids", root.path + "/cpu/c"]
        // pids' own path is the hierarchy root here (as on this host): only new folders may appear there.
        let before = outside(root.path, own: own)
        let m = CgroupManager(mode: .v1, root: root.path, selfCgroup: Self.v1Self)
        _ = try m.prepare(name: "io-file-0", limits: Self.limits)
        _ = try m.prepare(name: "io-db-0", limits: Self.limits)
        #expect(outside(root.path, own: own) == before)
        #expect(root.read("pids/pids.max") == "max")
    }

    @Test(arguments: ["../escape", "a/b", ".hidden", "", "..", "UPPER"])
    func aLeafNameThatCouldLeaveTheSubtreeIsRefused(name: String) throws {
        let root = try v1Root()
        defer { root.remove() }
        let m = CgroupManager(mode: .v1, root: root.path, selfCgroup: Self.v1Self)
        #expect(throws: RunnerError.self) { try m.prepare(name: name, limits: Self.limits) }
    }

    @Test func v1UsageReadsMemoryPidsAndOOMKills() throws {
        let root = try v1Root()
        defer { root.remove() }
        let leaf = try CgroupManager(mode: .v1, root: root.path, selfCgroup: Self.v1Self)
            .prepare(name: "io-file-0", limits: Self.limits)
        try root.write("memory/a/b/jalm/io-file-0/memory.usage_in_bytes", "4096\n")
        try root.write("memory/a/b/jalm/io-file-0/memory.max_usage_in_bytes", "8192\n")
        try root.write("memory/a/b/jalm/io-file-0/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        try root.write("pids/jalm/io-file-0/pids.current", "3\n")
        #expect(leaf.oomKills() == 2)
        #expect(leaf.usage() == CgroupUsage(memoryBytes: 4096, memoryPeakBytes: 8192, pids: 3, oomKills: 2))
        #expect(leaf.usage().json["oom_kills"] == 2)
    }

    @Test func removeDeletesEmptyLeavesAndToleratesMissingOnes() throws {
        let root = try TempFolder("cgrm")
        defer { root.remove() }
        try root.mkdir("memory/x")
        let leaf = CgroupLeaf(mode: .v1, name: "x", directories: [root.path + "/memory/x", root.path + "/pids/x"],
                              memoryDirectory: root.path + "/memory/x", pidsDirectory: root.path + "/pids/x")
        #expect(leaf.remove().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/memory/x"))
    }

    // MARK: v2

    static let v2Self = "0::/system.slice/jalmd.service\n"

    func v2Root() throws -> TempFolder {
        let root = try TempFolder("cg2")
        try root.write("system.slice/jalmd.service/cgroup.procs", "100\n200\n")
        try root.write("system.slice/jalmd.service/cgroup.subtree_control", "")
        try root.write("system.slice/cgroup.subtree_control", "memory pids cpu")
        try root.write("cgroup.procs", "1\n")
        try root.write("system.slice/jalmd.service/jalm-io-file-0/memory.swap.max", "max")
        return root
    }

    @Test func v2MovesTheDaemonIntoSupervisorOnceAndEnablesTheControllers() throws {
        let root = try v2Root()
        defer { root.remove() }
        let m = CgroupManager(mode: .v2, root: root.path, selfCgroup: Self.v2Self)
        let leaf = try m.prepare(name: "io-file-0", limits: Self.limits)
        let own = "system.slice/jalmd.service/"
        // A plain file keeps only the last pid written; the kernel would take each.
        #expect(root.read(own + "supervisor/cgroup.procs") == "200")
        #expect(root.read(own + "cgroup.subtree_control") == "+memory +pids +cpu")
        #expect(leaf.directories == [root.path + "/" + own + "jalm-io-file-0"])
        #expect(root.read(own + "jalm-io-file-0/memory.max") == String(256 << 20))
        #expect(root.read(own + "jalm-io-file-0/memory.swap.max") == "0")
        #expect(root.read(own + "jalm-io-file-0/memory.oom.group") == "1")
        #expect(root.read(own + "jalm-io-file-0/pids.max") == "64")
        #expect(root.read(own + "jalm-io-file-0/cpu.max") == "50000 100000")
        try root.write(own + "cgroup.procs", "300\n")
        _ = try m.prepare(name: "io-db-0", limits: Self.limits)
        #expect(root.read(own + "supervisor/cgroup.procs") == "200", "the move happens on first use only")
        #expect(root.read(own + "jalm-io-db-0/memory.swap.max") == nil, "no swap controller, no swap.max")
        #expect(root.read("cgroup.procs") == "1\n")
        #expect(root.read("system.slice/cgroup.subtree_control") == "memory pids cpu")
    }

    @Test func v2OOMKillsComeFromMemoryEvents() throws {
        let root = try v2Root()
        defer { root.remove() }
        let leaf = try CgroupManager(mode: .v2, root: root.path, selfCgroup: Self.v2Self)
            .prepare(name: "io-file-0", limits: Self.limits)
        try root.write("system.slice/jalmd.service/jalm-io-file-0/memory.events",
                       "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 1\n")
        #expect(leaf.oomKills() == 1)
    }

    @Test func aDaemonAlreadyInSupervisorKnowsItsOwnPath() {
        let m = CgroupManager(mode: .v2, root: "/x", selfCgroup: "0::/system.slice/jalmd.service/supervisor\n")
        #expect(m.ownPath(controller: "") == "/system.slice/jalmd.service")
    }

    @Test func v2InTheRootCgroupIsRefused() throws {
        let root = try TempFolder("cg2root")
        defer { root.remove() }
        try root.write("cgroup.procs", "1\n")
        let m = CgroupManager(mode: .v2, root: root.path, selfCgroup: "0::/\n")
        #expect(throws: RunnerError.self) { try m.prepare(name: "io-file-0", limits: Self.limits) }
        #expect(root.read("cgroup.procs") == "1\n")
    }

    @Test func noModeMeansNoLeaf() {
        let m = CgroupManager(mode: .none, root: "/nonexistent", selfCgroup: "")
        #expect(throws: RunnerError.self) { try m.prepare(name: "x", limits: Self.limits) }
    }

    @Test func aPlainFolderIsNoCgroupHierarchy() throws {
        let root = try TempFolder("cgnone")
        defer { root.remove() }
        try root.mkdir("memory")
        try root.mkdir("pids")
        try root.mkdir("cpu")
        #expect(CgroupMode.detect(root: root.path) == .none)
    }
}
