#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// The hostile fixture (Tests/FixtureLayers/HostileProbes.swift) in a layer's place, confined by that layer's
/// policy (sandbox/<layer>.yml), tries what the layer must not do. Each deny asserts its mechanism (the errno,
/// or SIGSYS → `sandbox_violation` naming the syscall); its twin runs the same probe with `sandbox: off` and
/// sees it work, so a pass cannot come from a broken probe.
@Suite(.serialized) struct SandboxTests {
    static let noNetworkLayers = ["io-file", "render-html", "compute-script"]
    // io-db is outbound for its PostgreSQL databases (TCP only; docs/layers.md).
    static let allLayers = noNetworkLayers + ["io-http", "notify-mq", "io-db"]

    // socket(2) fails softly (EACCES) in a layer without network: libc's syslog and nscd try AF_UNIX and
    // carry on; the process lives, and nothing leaves the empty network namespace anyway.
    @Test(arguments: noNetworkLayers) func anInetSocketIsEACCESInANoNetworkLayer(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.socket_inet"), "EACCES", errno: EACCES)
    }

    @Test func anInetSocketWorksWithTheSandboxOff() throws {
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.socket_inet"))
    }

    @Test(arguments: ["io-http", "io-db"]) func anOutboundLayerMayOpenAnInetSocket(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectOK(h.probe("probe.socket_inet"))
    }

    @Test(arguments: noNetworkLayers) func aTCPConnectToALiveLoopbackServerIsDeniedInANoNetworkLayer(layer: String) throws {
        let server = try LoopbackServer()
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.tcp_connect", ["port": .int(Int64(server.port))]), "EACCES", errno: EACCES)
    }

    @Test func aTCPConnectToTheLiveLoopbackServerWorksWithTheSandboxOff() throws {
        let server = try LoopbackServer()
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.tcp_connect", ["port": .int(Int64(server.port))]))
    }

    @Test(arguments: allLayers) func readingEtcShadowIsEACCES(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.read", ["path": "/etc/shadow"]), "EACCES", errno: EACCES)
    }

    @Test func readingEtcShadowWorksWithTheSandboxOffAsRoot() throws {
        guard getuid() == 0 else { try skipLoudly("the twin needs root: /etc/shadow is 0640 root:shadow") }
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.read", ["path": "/etc/shadow"]))
    }

    @Test(arguments: allLayers) func readingAFileOutsideThePolicyPathsIsEACCES(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.read", ["path": .string(try h.outsideFile())]), "EACCES", errno: EACCES)
    }

    @Test func readingAFileOutsideThePolicyPathsWorksWithTheSandboxOff() throws {
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.read", ["path": .string(try h.outsideFile())]))
    }

    @Test(arguments: allLayers) func writingOutsideTheReadWritePathsIsEACCES(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.write", ["path": .string(h.root + "/outside-written.txt")]), "EACCES", errno: EACCES)
    }

    @Test func writingOutsideTheReadWritePathsWorksWithTheSandboxOff() throws {
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.write", ["path": .string(h.root + "/outside-written.txt")]))
    }

    @Test func ioFileMayWriteBeneathDataFiles() throws {
        let h = try Hostile("io-file")
        try h.expectOK(h.probe("probe.write", ["path": .string(h.daemon.dataDir + "/files/inside.txt")]))
    }

    @Test func ioDBMayWriteBeneathDataDB() throws {
        let h = try Hostile("io-db")
        try h.expectOK(h.probe("probe.write", ["path": .string(h.daemon.dataDir + "/db/inside.sqlite")]))
    }

    @Test func renderHTMLMayNotWriteBeneathDataFiles() throws {
        let h = try Hostile("render-html")
        try h.expectErrno(h.probe("probe.write", ["path": .string(h.daemon.dataDir + "/files/x.txt")]), "EACCES", errno: EACCES)
    }

    // ptrace, mount, bpf and unshare are in no group and no layer's extra: the filter kills the process.
    @Test(arguments: allLayers) func ptraceKillsTheLayer(layer: String) throws {
        let target = try SleepingChild()
        let h = try Hostile(layer)
        try h.expectKilled(h.probe("probe.ptrace", ["pid": .int(Int64(target.pid))]), by: "ptrace")
    }

    @Test func ptraceAttachWorksWithTheSandboxOff() throws {
        let target = try SleepingChild()
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.ptrace", ["pid": .int(Int64(target.pid))]))
    }

    @Test(arguments: allLayers) func mountKillsTheLayer(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectKilled(h.probe("probe.mount", ["path": .string(try h.emptyDir())]), by: "mount")
    }

    @Test func mountWorksWithTheSandboxOffAsRoot() throws {
        guard getuid() == 0 else { try skipLoudly("the twin needs CAP_SYS_ADMIN") }
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.mount", ["path": .string(try h.emptyDir())]))
    }

    @Test(arguments: allLayers) func bpfKillsTheLayer(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectKilled(h.probe("probe.bpf"), by: "bpf")
    }

    @Test func bpfWorksWithTheSandboxOffAsRoot() throws {
        guard getuid() == 0 else { try skipLoudly("the twin needs CAP_BPF (unprivileged_bpf_disabled)") }
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.bpf"))
    }

    @Test(arguments: allLayers) func unshareKillsTheLayer(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectKilled(h.probe("probe.unshare"), by: "unshare")
    }

    @Test func unshareWorksWithTheSandboxOffAsRoot() throws {
        guard getuid() == 0 else { try skipLoudly("the twin needs CAP_SYS_ADMIN for CLONE_NEWNS") }
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.unshare"))
    }

    /// `kill` is in no allowlist (SIGSYS); a policy that allowed it would still meet Landlock's signal
    /// scope (ABI 6+): EPERM. Either way the kernel gets no signal and stays up.
    @Test(arguments: allLayers) func signallingTheKernelIsDenied(layer: String) throws {
        let h = try Hostile(layer)
        let view = try h.probe("probe.kill", ["pid": .int(Int64(h.daemon.pid))])
        if view["state"] == "failed" {
            try h.expectKilled(view, by: "kill")
        } else {
            try h.expectErrno(view, "EPERM", errno: EPERM)
        }
    }

    @Test func signallingTheKernelWorksWithTheSandboxOff() throws {
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.kill", ["pid": .int(Int64(h.daemon.pid))]))
    }

    /// Layers talk over inherited socketpairs; the one Unix socket path a plugin could reach is the
    /// kernel's control socket, which would let it submit capsules as the kernel's own caller.
    // Landlock (ABI 7) does not mediate connect() to a socket path, so seccomp refuses AF_UNIX sockets to
    // every layer (network layers may open inet, inet6 and netlink ones only).
    @Test(arguments: allLayers) func connectingToTheControlSocketIsDenied(layer: String) throws {
        let h = try Hostile(layer)
        try h.expectErrno(h.probe("probe.connect_unix", ["path": .string(h.daemon.socketPath)]), "EACCES", errno: EACCES)
    }

    @Test func connectingToTheControlSocketWorksWithTheSandboxOff() throws {
        let h = try Hostile("io-file", sandbox: "off")
        try h.expectOK(h.probe("probe.connect_unix", ["path": .string(h.daemon.socketPath)]))
    }

    @Test func aForkBombIsStoppedByPidsMaxWithEAGAIN() throws {
        try requireCgroupLimits()
        let h = try Hostile("compute-script")
        let view = try h.probe("probe.fork_bomb", ["n": .int(Int64(Hostile.pidsMax * 4))])
        try h.expectErrno(view, "EAGAIN", errno: EAGAIN)
        let forked = try #require(view["steps"]?[0]?["output"]?["forked"]?.intValue)
        #expect(forked > 0 && forked < Int64(Hostile.pidsMax), "forked \(forked) with pids.max \(Hostile.pidsMax)")
        try h.expectKernelAnswers()
    }

    @Test func theForkBombForksAllItsChildrenWithTheSandboxOff() throws {
        let h = try Hostile("compute-script", sandbox: "off")
        let view = try h.probe("probe.fork_bomb", ["n": .int(Int64(Hostile.pidsMax * 4))])
        try h.expectOK(view)
        #expect(view["steps"]?[0]?["output"]?["forked"]?.intValue == Int64(Hostile.pidsMax * 4))
    }

    @Test func aMemoryBombIsOOMKilledAsResourceExhaustedAndOtherLayersAreUnaffected() throws {
        try requireCgroupLimits()
        let h = try Hostile("compute-script")
        let view = try h.probe("probe.mem_bomb", ["mb": .int(Int64(Hostile.memoryMiB * 4))])
        #expect(view["state"] == "failed")
        #expect(view["error"]?["code"] == "resource_exhausted", "\(view)")
        #expect(try h.daemon.waitUntil(5) { (try h.daemon.layer("compute-script")["oom_kills"]?.intValue ?? 0) >= 1 })
        for other in ["io-file", "io-db", "render-html"] {
            let echo = try h.daemon.run(["steps": [["id": "e", "layer": .string(other), "op": "sys.echo", "input": ["x": 1]]]])
            #expect(echo["state"] == "completed", "\(other) after the OOM kill: \(echo)")
        }
        try h.expectKernelAnswers()
    }

    @Test func theMemoryBombTouchesAllItsMemoryWithTheSandboxOff() throws {
        let h = try Hostile("compute-script", sandbox: "off")
        let view = try h.probe("probe.mem_bomb", ["mb": .int(Int64(Hostile.memoryMiB * 4))])
        try h.expectOK(view)
        #expect(view["steps"]?[0]?["output"]?["mb"]?.intValue == Int64(Hostile.memoryMiB * 4))
    }

    @Test func theViolationNamesItsSyscall() throws {
        let h = try Hostile("render-html")
        sleep(5)  // let printk's rate limit (10 records per 5 s) recover from the tests before
        let view = try h.probe("probe.bpf")
        let message = view["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("(bpf, syscall 321)"), "\(view)")
    }

    @Test func aViolationIsCountedOnTheLayerAndTheLayerComesBack() throws {
        let h = try Hostile("render-html")
        try h.expectKilled(h.probe("probe.bpf"), by: "bpf")
        #expect(try h.daemon.waitUntil(5) { (try h.daemon.layer("render-html")["violations"]?.intValue ?? 0) == 1 })
        #expect(try h.daemon.waitUntil(10) { try h.daemon.layerPID("render-html") != nil })
        let echo = try h.daemon.run(["steps": [["id": "e", "layer": "render-html", "op": "sys.echo", "input": ["a": 1]]]])
        #expect(echo["state"] == "completed", "\(echo)")
    }

    @Test(arguments: allLayers) func everyLayerProcessReportsItsConfinement(layer: String) throws {
        let daemon = try Daemon()
        let c = try #require(try daemon.layer(layer)["processes"]?[0]?["confinement"], "no confinement for \(layer)")
        #expect(c["seccomp"]?.intValue == 2, "\(c)")
        #expect(c["no_new_privs"] == true || c["no_new_privs"]?.intValue == 1, "\(c)")
        #expect(c["cap_eff"]?.intValue == 0 || c["cap_eff"]?.stringValue?.allSatisfy { $0 == "0" } == true, "\(c)")
        if Self.noNetworkLayers.contains(layer) {
            #expect(c["namespaces"]?.arrayValue?.contains("net") == true, "\(layer) has no network namespace: \(c)")
        }
    }

    @Test func theRealLayersServeEveryOpUnderTheirPolicies() throws {
        let daemon = try Daemon(config: "sandbox: enforce")
        let file = ["write": ["path": "t/a.txt", "content": "hi", "create_dirs": true], "read": ["path": "t/a.txt"],
                    "append": ["path": "t/a.txt", "content": "!"], "list": ["path": "t"], "stat": ["path": "t/a.txt"],
                    "mkdir": ["path": "t/d/e"], "move": ["from": "t/a.txt", "to": "t/d/b.txt"],
                    "delete": ["path": "t", "recursive": true]] as [String: JSONValue]
        let order = ["write", "read", "append", "list", "stat", "mkdir", "move", "delete"]
        var steps: [JSONValue] = order.map { ["id": .string($0), "layer": "io-file", "op": .string($0), "input": file[$0]!] }
        for layer in Self.allLayers {
            steps.append(["id": .string("echo-\(layer)"), "layer": .string(layer), "op": "sys.echo", "input": ["a": 1]])
            steps.append(["id": .string("nap-\(layer)"), "layer": .string(layer), "op": "sys.sleep", "input": ["ms": 5]])
        }
        let view = try daemon.run(["steps": .array(steps)])
        #expect(view["state"] == "completed", "\(view)")
        for layer in Self.allLayers {
            let view = try daemon.layer(layer)
            #expect(view["violations"]?.intValue == 0, "\(layer): \(view)")
        }
    }
}

/// A daemon whose `layer` is served by the hostile fixture under that layer's policy, with a step card for
/// every probe op and the small limits the bombs run into.
struct Hostile {
    static let pidsMax = 32
    static let memoryMiB = 64
    static let ops = ["probe.socket_inet", "probe.tcp_connect", "probe.read", "probe.write", "probe.ptrace",
                      "probe.mount", "probe.bpf", "probe.unshare", "probe.kill", "probe.connect_unix",
                      "probe.fork_bomb", "probe.mem_bomb"]

    let layer: String
    let daemon: Daemon
    /// The daemon's temp folder: outside every policy path (its data/ and share/ are below it).
    let root: String

    init(_ layer: String, sandbox: String = "enforce") throws {
        self.layer = layer
        let manifest = """
            name: \(layer)
            executable: \(Daemon.binDir)/jalm-fixture-layer
            args: [hostile]
            pool: 1
            max_inflight: 8
            env: {JALM_FIXTURE_LAYER: \(layer), JALM_FIXTURE_OPS: "\(Daemon.catalogOps(of: layer).joined(separator: ","))"}
            limits: {memory: \(Self.memoryMiB)M, pids: \(Self.pidsMax)}
            """
        var cards: [String: String] = [:]
        for op in Self.ops {
            cards["\(layer).\(op)"] = """
                layer: \(layer)
                op: \(op)
                summary: A hostile probe (test fixture).
                side_effect: none
                io_type: test
                timeout: 60s
                input: {type: object}
                output: {type: object}
                """
        }
        daemon = try Daemon(manifests: [layer: manifest], config: "sandbox: \(sandbox)\nrestart_base_delay: 10ms",
                            extraCards: cards)
        root = (daemon.dataDir as NSString).deletingLastPathComponent
    }

    /// Runs one probe step (no retry) and returns the execution view.
    func probe(_ op: String, _ input: [String: JSONValue] = [:]) throws -> JSONValue {
        try daemon.run(["steps": [["id": "p", "layer": .string(layer), "op": .string(op), "input": .object(input),
                                   "retry": ["max": 0]]]])
    }

    func expectOK(_ view: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(view["state"] == "completed", "\(view)", sourceLocation: sourceLocation)
        #expect(view["steps"]?[0]?["output"]?["ok"] == true, "\(view)", sourceLocation: sourceLocation)
    }

    /// The probe ran and the kernel refused it with exactly this errno; the process lives on.
    func expectErrno(_ view: JSONValue, _ name: String, errno: Int32,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let output = view["steps"]?[0]?["output"]
        #expect(view["state"] == "completed", "\(view)", sourceLocation: sourceLocation)
        #expect(output?["ok"] == false, "\(view)", sourceLocation: sourceLocation)
        #expect(output?["error"]?.stringValue == name, "\(view)", sourceLocation: sourceLocation)
        #expect(output?["errno"]?.intValue == Int64(errno), "\(view)", sourceLocation: sourceLocation)
    }

    /// The filter killed the process (SIGSYS): the step fails with `sandbox_violation` naming the syscall,
    /// and the kernel still answers.
    func expectKilled(_ view: JSONValue, by syscall: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = view["error"]
        #expect(view["state"] == "failed", "\(view)", sourceLocation: sourceLocation)
        #expect(error?["code"] == "sandbox_violation", "\(view)", sourceLocation: sourceLocation)
        // The syscall's name comes from the kernel's audit record, which printk rate-limits: when the log
        // has it, it must be this one (theViolationNamesItsSyscall asserts that it is found at all).
        let message = error?["message"]?.stringValue ?? ""
        #expect(message.contains("seccomp"), "\(view)", sourceLocation: sourceLocation)
        if message.contains(", syscall ") {
            #expect(message.contains("(\(syscall),"), "the violation names another syscall than \(syscall): \(view)",
                    sourceLocation: sourceLocation)
        }
        try expectKernelAnswers(sourceLocation: sourceLocation)
    }

    func expectKernelAnswers(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(daemon.isRunning, "jalmd died: \(daemon.log)", sourceLocation: sourceLocation)
        #expect(try daemon.request("GET", "/").0 == 200, sourceLocation: sourceLocation)
    }

    /// A world-readable file the test owns, outside every path of every policy.
    func outsideFile() throws -> String {
        let path = root + "/outside.txt"
        try "not yours\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }

    func emptyDir() throws -> String {
        let path = root + "/mnt"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A listening TCP socket on 127.0.0.1: a connect succeeds from the backlog without an accept.
final class LoopbackServer {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { close(fd); throw DaemonError("cannot listen on 127.0.0.1: errno \(errno)") }
        self.fd = fd
        port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { close(fd) }
}

/// A `sleep` the test owns, for ptrace to attach to.
final class SleepingChild {
    let pid: pid_t

    init() throws { pid = try Daemon.spawn("/bin/sleep", ["60"], log: "/dev/null") }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// Ends the test as skipped, with the reason on stderr and in the test report.
func skipLoudly(_ reason: String) throws -> Never {
    FileHandle.standardError.write(Data("SKIPPED (sandbox): \(reason)\n".utf8))
    try Test.cancel(Comment(rawValue: reason))
}

/// The bombs need memory and pids limits: cgroup v2 with both controllers delegated to this process's
/// subtree, or v1 with writable `memory` and `pids` hierarchies.
func requireCgroupLimits() throws {
    // cgroup2 mounted at /sys/fs/cgroup itself (not hybrid's /sys/fs/cgroup/unified) has this file at its root.
    if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup\(own)/cgroup.controllers", encoding: .utf8)) ?? ""
        let have = Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init))
        guard have.isSuperset(of: ["memory", "pids"]) else {
            try skipLoudly("cgroup v2 without the memory and pids controllers in \(own) (have: \(have.sorted()))")
        }
    } else {
        for controller in ["memory", "pids"] where access("/sys/fs/cgroup/\(controller)", W_OK) != 0 {
            try skipLoudly("cgroup v1 without a writable \(controller) hierarchy at /sys/fs/cgroup/\(controller)")
        }
    }
}

/// Without cgroup controllers no limit can be applied: enforce refuses to start, degraded starts and says so.
@Suite(.serialized) struct SandboxModeTests {
    @Test func withoutCgroupControllersEnforceRefusesToStartAndSaysWhy() throws {
        let empty = Daemon.makeTempDir()
        do {
            _ = try Daemon(config: "cgroup_root: \(empty)")
            Issue.record("jalmd started without any cgroup controller under sandbox: enforce")
        } catch {
            #expect("\(error)".contains("no usable cgroup controllers"), "\(error)")
            #expect("\(error)".contains("sandbox: degraded"), "\(error)")
        }
    }

    @Test func withoutCgroupControllersDegradedStartsAndSaysSoLoudly() throws {
        let empty = Daemon.makeTempDir()
        let daemon = try Daemon(config: "cgroup_root: \(empty)\nsandbox: degraded")
        let (status, health) = try daemon.request("GET", "/health")
        #expect(status == 200 && health["status"] == "degraded", "\(health)")
        #expect(health["warnings"]?.arrayValue?.count == 6, "\(health)")
        #expect(try daemon.layer("io-file")["sandbox"] == "degraded (no cgroup limits)")
        #expect(daemon.log.contains("sandbox degraded"))
        // Still confined otherwise: seccomp and no_new_privs hold.
        let c = try daemon.layer("io-file")["processes"]?[0]?["confinement"]
        #expect(c?["seccomp"] == 2, "\(String(describing: c))")
        #expect(try daemon.run(["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": [:]]]])["state"] == "completed")
    }
}

@Suite(.serialized) struct ServiceUserTests {
    @Test func pluginsRunAsTheServiceUserAndIoFileCanStillWriteItsFolder() throws {
        guard getuid() == 0 else { try skipLoudly("dropping to another user needs root") }
        // The data folder must be reachable by that user (mkdtemp makes 0700 folders).
        let parent = Daemon.makeTempDir()
        chmod(parent, 0o755)
        let daemon = try Daemon(config: "service_user: 65534:65534", dataDir: parent + "/data")
        let c = try #require(try daemon.layer("io-file")["processes"]?[0]?["confinement"])
        #expect(c["uid"] == 65534 || c["uid"]?.arrayValue?.first == 65534, "\(c)")
        let view = try daemon.run(["steps": [
            ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "nobody.txt", "content": "hi"]],
        ]])
        #expect(view["state"] == "completed", "\(view)")
        var st = stat()
        #expect(stat(daemon.dataDir + "/files/nobody.txt", &st) == 0 && st.st_uid == 65534)
    }
}
