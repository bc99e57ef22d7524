import Foundation
import JALMCore
import JALMSandbox
import Testing

/// What this host offers: v1 memory, pids and cpu here; v2 with delegated controllers on a systemd VM.
let hostCgroupMode = CgroupMode.detect()

/// Real cgroups: a memory bomb is OOM-killed, a fork bomb meets EAGAIN. The test process's own cgroup is
/// the parent of the leaves, and each test removes its leaf.
@Suite(.serialized) struct CgroupRealTests {
    static let python = "/usr/bin/python3"
    static let limits = ResourceLimits(memoryBytes: 64 << 20, pids: 8, cpu: 1.0)

    /// `sh` joins every folder of the leaf, then execs python3 with `code`.
    func runInLeaf(_ leaf: CgroupLeaf, python code: String) throws -> (signal: Int32?, status: Int32, stdout: String, stderr: String) {
        let join = leaf.directories.map { "echo 0 > '\($0)/cgroup.procs'" }.joined(separator: " && ")
        let child = try Child("/bin/sh", ["-c", "\(join) && exec \(Self.python) -c '\(code)'"])
        return child.finish()
    }

    func memoryBomb(mode: CgroupMode) throws {
        let m = CgroupManager(mode: mode)
        let leaf = try m.prepare(name: "test-\(getpid())-oom", limits: Self.limits)
        defer { leaf.remove() }
        #expect(leaf.oomKills() == 0)
        let r = try runInLeaf(leaf, python: "x = bytearray(200 * 1024 * 1024); print(len(x))")
        #expect(r.signal == SIGKILL, "want SIGKILL by the OOM killer, got \(r)")
        #expect(r.stdout.isEmpty)
        #expect(leaf.oomKills() == 1)
        #expect(leaf.usage().oomKills == 1)
    }

    static let forkBomb = """
        import os, errno, time, signal
        kids, err = [], "none"
        try:
            for i in range(20):
                pid = os.fork()
                if pid == 0:
                    time.sleep(5)
                    os._exit(0)
                kids.append(pid)
        except OSError as e:
            err = errno.errorcode[e.errno]
        for k in kids: os.kill(k, signal.SIGKILL)
        for k in kids: os.waitpid(k, 0)
        print(err, len(kids))
        """

    func forkBomb(mode: CgroupMode) throws {
        let leaf = try CgroupManager(mode: mode).prepare(name: "test-\(getpid())-pids", limits: Self.limits)
        defer { leaf.remove() }
        let r = try runInLeaf(leaf, python: Self.forkBomb)
        // pids.max 8: python is one task, so the eighth fork fails with EAGAIN (fork(2): "the caller is
        // operating under the pids controller and reached its limit").
        #expect(r.signal == nil && r.status == 0, "\(r)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "EAGAIN 7", "\(r)")
    }

    func leafIsRemoved(mode: CgroupMode) throws {
        let leaf = try CgroupManager(mode: mode).prepare(name: "test-\(getpid())-rm", limits: Self.limits)
        for d in leaf.directories { #expect(FileManager.default.fileExists(atPath: d + "/cgroup.procs")) }
        #expect(leaf.remove().isEmpty)
        for d in leaf.directories { #expect(!FileManager.default.fileExists(atPath: d)) }
    }

    @Test(.enabled(if: hostCgroupMode == .v1, "needs writable cgroup v1 memory, pids and cpu hierarchies"))
    func v1MemoryBombIsOOMKilled() throws { try memoryBomb(mode: .v1) }

    @Test(.enabled(if: hostCgroupMode == .v1, "needs writable cgroup v1 memory, pids and cpu hierarchies"))
    func v1ForkBombMeetsEAGAIN() throws { try forkBomb(mode: .v1) }

    @Test(.enabled(if: hostCgroupMode == .v1, "needs writable cgroup v1 memory, pids and cpu hierarchies"))
    func v1LeafIsRemoved() throws { try leafIsRemoved(mode: .v1) }

    // These move the test process into <own>/supervisor, as jalmd does: run them only on a disposable VM.
    @Test(.enabled(if: hostCgroupMode == .v2, "needs cgroup v2 with memory, pids and cpu delegated (Delegate=yes); this host has none"))
    func v2MemoryBombIsOOMKilled() throws { try memoryBomb(mode: .v2) }

    @Test(.enabled(if: hostCgroupMode == .v2, "needs cgroup v2 with memory, pids and cpu delegated (Delegate=yes); this host has none"))
    func v2ForkBombMeetsEAGAIN() throws { try forkBomb(mode: .v2) }

    @Test(.enabled(if: hostCgroupMode == .v2, "needs cgroup v2 with memory, pids and cpu delegated (Delegate=yes); this host has none"))
    func v2LeafIsRemoved() throws { try leafIsRemoved(mode: .v2) }
}
