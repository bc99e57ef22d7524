import Foundation
import JALMCore
import JALMSandbox
import JALMWire
import Testing

/// jalm-launch, from the package build, a gcc build in /tmp, or built here with gcc; nil when none can be had.
let launcherPath: String? = {
    for p in ["/work/main/.build/debug/jalm-launch", "/tmp/jalm-launch"] where FileManager.default.isExecutableFile(atPath: p) {
        return p
    }
    guard let dir = try? TempFolder("launch") else { return nil }
    let sources = URL(fileURLWithPath: repositorySandboxFolder).deletingLastPathComponent().path + "/Sources/jalm-launch"
    let files = (try? FileManager.default.contentsOfDirectory(atPath: sources).filter { $0.hasSuffix(".c") }) ?? []
    guard !files.isEmpty, let gcc = try? Child("/usr/bin/gcc", ["-O2", "-o", dir.path + "/jalm-launch"]
        + files.map { sources + "/" + $0 } + ["-lseccomp"]) else { return nil }
    return gcc.finish().status == 0 ? dir.path + "/jalm-launch" : nil
}()

/// Waits until `pid` runs `executable` (the launcher has exec'd it), at most two seconds.
func waitForExec(_ pid: Int32, _ executable: String) -> Bool {
    for _ in 0..<200 {
        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        if target == executable { return true }
        usleep(10_000)
    }
    return false
}

@Suite(.serialized) struct ProcessAuditTests {
    static let sleepExe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/bin/sleep")) ?? "/usr/bin/sleep"

    @Test func anUnconfinedProcessFailsTheAuditOnEveryCount() throws {
        let child = try Child("/bin/sleep", ["5"])
        defer { child.kill(); _ = child.finish() }
        let seen = try ProcessAudit.inspect(pid: child.pid)
        #expect(seen.seccompMode == 0)
        #expect(!seen.noNewPrivs)
        #expect(seen.separateNamespaces.isEmpty)
        let failures = seen.check(against: ExpectedConfinement(
            namespaces: [.net, .ipc], cgroupDirectories: ["/sys/fs/cgroup/memory/nowhere/jalm/x"]))
        #expect(failures.contains { $0.contains("Seccomp 0, want 2") }, "\(failures)")
        #expect(failures.contains { $0.contains("NoNewPrivs 0, want 1") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("net namespace is the daemon's own") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("ipc namespace is the daemon's own") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("not in cgroup /sys/fs/cgroup/memory/nowhere/jalm/x") }, "\(failures)")
        if getuid() == 0 { #expect(failures.contains { $0.hasPrefix("CapEff") }, "root's child has capabilities") }
        #expect(seen.json["seccomp"] == 0)
        #expect(seen.json["no_new_privs"] == false)
    }

    @Test func aProcessThatIsGoneIsNotFound() throws {
        let child = try Child("/bin/true", [])
        let pid = child.pid
        _ = child.finish()
        #expect { try ProcessAudit.inspect(pid: pid) } throws: { ($0 as? RunnerError)?.code == .notFound }
    }

    /// A policy for `sleep` from the repository's groups: enough to run, nothing to spare.
    static let sleepPolicy = """
        layer: probe
        default_action: kill-process
        syscalls:
          groups: [runtime, threads, time, fs-read]
        network: none
        filesystem:
          read_only: [/usr, /lib, /lib64, /bin, /etc]
        namespaces: [net, ipc, uts]
        rlimits: {core: 0}
        """

    @Test(.enabled(if: launcherPath != nil, "jalm-launch is not built and gcc could not build it (needs libseccomp-dev)"))
    func aLaunchedProcessPassesTheAuditWithItsNamespacesAndCgroup() throws {
        let dir = try TempFolder("audit")
        defer { dir.remove() }
        try dir.write("groups.yml", String(contentsOfFile: repositorySandboxFolder + "/groups.yml", encoding: .utf8))
        try dir.write("probe.yml", Self.sleepPolicy)
        let policy = try SandboxPolicy.load(layer: "probe", directory: dir.path).effective(placeholders: [:])
        let leaf = hostCgroupMode == .none ? nil : try CgroupManager(mode: hostCgroupMode)
            .prepare(name: "test-\(getpid())-audit", limits: ResourceLimits(memoryBytes: 64 << 20, pids: 8, cpu: 0.5))
        defer { leaf?.remove() }
        let dirs = leaf?.directories ?? []
        let args = policy.launcherArguments(cgroupDirectories: dirs, user: nil) + ["--", "/bin/sleep", "5"]
        let child = try Child(launcherPath!, args)
        defer { child.kill(); _ = child.finish() }
        try #require(waitForExec(child.pid, Self.sleepExe), "the launcher did not exec sleep")
        let seen = try ProcessAudit.inspect(pid: child.pid)
        let failures = seen.check(against: ExpectedConfinement(namespaces: policy.namespaces, cgroupDirectories: dirs))
        #expect(failures.isEmpty, "\(failures)")
        #expect(seen.json["seccomp"] == 2)
        #expect(seen.json["no_new_privs"] == true)
        #expect(seen.json["cap_eff"] == "0000000000000000")
        #expect(Set(seen.json["namespaces"]?.arrayValue ?? []) == ["net", "ipc", "uts"])
        if let leaf { #expect(leaf.usage().pids == 1) }
    }

    @Test func cgroupLinesPlaceAProcessInItsFolders() {
        var c = ProcessConfinement(pid: 1, threads: [], capEff: 0, capPrm: 0, capBnd: 0, uids: [], namespaces: [:],
                                   daemonNamespaces: [:], cgroups: ["4:memory:/a/jalm/x", "1:cpu,cpuacct:/jalm/x", "0::/"])
        #expect(c.isIn(cgroupDirectory: "/sys/fs/cgroup/memory/a/jalm/x"))
        #expect(c.isIn(cgroupDirectory: "/sys/fs/cgroup/cpu/jalm/x"))
        #expect(!c.isIn(cgroupDirectory: "/sys/fs/cgroup/pids/a/jalm/x"))
        #expect(!c.isIn(cgroupDirectory: "/sys/fs/cgroup/memory/b/jalm/x"))
        c.cgroups = ["0::/svc/jalm-x"]
        #expect(c.isIn(cgroupDirectory: "/sys/fs/cgroup/svc/jalm-x"))
        #expect(!c.isIn(cgroupDirectory: "/sys/fs/cgroup/svc/jalm-y"))
    }

    @Test func oneUnfilteredThreadFailsTheAudit() {
        let c = ProcessConfinement(
            pid: 7, threads: [.init(tid: 7, seccomp: 2, noNewPrivs: 1), .init(tid: 8, seccomp: 0, noNewPrivs: 1)],
            capEff: 0, capPrm: 0, capBnd: 0, uids: [], namespaces: [:], daemonNamespaces: [:], cgroups: [])
        #expect(c.check(against: ExpectedConfinement(namespaces: [], cgroupDirectories: [])) == ["thread 8: Seccomp 0, want 2 (filter)"])
        #expect(c.json["seccomp"] == 0)
    }

    @Test func landlockReportsTheABIWhereTheKernelHasIt() {
        let lsm = (try? String(contentsOfFile: "/sys/kernel/security/lsm", encoding: .utf8)) ?? ""
        let abi = Landlock.abiVersion()
        #expect(abi >= 0)
        if lsm.contains("landlock") { #expect(abi >= 1, "Landlock is an active LSM (\(lsm)) but ABI is \(abi)") }
    }
}

@Suite struct SwiftRuntimeTests {
    @Test func theTestBinaryRunpathLeadsToLibswiftCore() throws {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let dir = try #require(SwiftRuntime.directory(ofExecutable: exe), "no RUNPATH with libswiftCore.so in \(exe)")
        #expect(FileManager.default.fileExists(atPath: dir + "/libswiftCore.so"))
    }

    @Test func aStaticOrNonELFFileHasNone() {
        #expect(SwiftRuntime.directory(ofExecutable: "/bin/sh") == nil)
        #expect(SwiftRuntime.directory(ofExecutable: "/etc/hostname") == nil)
        #expect(SwiftRuntime.directory(ofExecutable: "/nonexistent") == nil)
    }
}
