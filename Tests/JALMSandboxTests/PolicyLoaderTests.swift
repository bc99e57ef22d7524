import Foundation
import JALMCore
import JALMDocument
import JALMSandbox
import JALMWire
import Testing

@Suite struct PolicyLoaderTests {
    static let groups = """
        runtime: [read, write, exit_group, mmap]
        fs-read: [openat, read, fstat]
        fs-write: [mkdirat, unlinkat]
        """

    static let ioFile = """
        layer: io-file
        default_action: kill-process
        syscalls:
          groups: [runtime, fs-read, fs-write]
          extra: [openat2, io_uring_setup]
          errno: {io_uring_setup: ENOSYS, statx: 38}
        network: none
        filesystem:
          read_only: ["{bin}", /usr/lib, "{swift_runtime}"]
          read_write: ["{data}/files", "{data}//files/"]
        namespaces: [net, ipc, uts]
        rlimits: {nofile: 1024, core: 0, stack: {soft: 8388608, hard: unlimited}}
        """

    /// Loads `policy` as `<layer>.yml` beside `groups`, or returns the load error.
    func load(_ policy: String, layer: String = "io-file", groups: String = groups) throws -> Result<SandboxPolicy, RunnerError> {
        let dir = try TempFolder("policy")
        defer { dir.remove() }
        try dir.write("groups.yml", groups)
        try dir.write("\(layer).yml", policy)
        do throws(RunnerError) {
            return .success(try SandboxPolicy.load(layer: layer, directory: dir.path))
        } catch {
            return .failure(error)
        }
    }

    func loadError(_ policy: String, groups: String = groups) throws -> RunnerError {
        guard case .failure(let e) = try load(policy, groups: groups) else {
            Issue.record("the policy loaded, but it should not have")
            return RunnerError(.internal, "loaded")
        }
        return e
    }

    static let placeholders = ["bin": "/opt/jalm/bin", "data": "/var/lib/jalm", "swift_runtime": "/opt/swift/lib"]

    @Test func aPolicyExpandsItsGroupsIntoOneSortedUniqueList() throws {
        let p = try load(Self.ioFile).get()
        #expect(p.syscalls == ["exit_group", "fstat", "io_uring_setup", "mkdirat", "mmap", "openat", "openat2", "read",
                               "unlinkat", "write"])
        #expect(p.errno["io_uring_setup"]?.value == 38)
        #expect(p.errno["statx"]?.name == "ENOSYS")
        #expect(p.namespaces == [.net, .ipc, .uts])
    }

    @Test func theEffectivePolicyResolvesPlaceholdersAndLeavesErrnoSyscallsOutOfTheAllowlist() throws {
        let e = try load(Self.ioFile).get().effective(placeholders: Self.placeholders)
        #expect(e.readOnly == ["/opt/jalm/bin", "/usr/lib", "/opt/swift/lib"])
        #expect(e.readWrite == ["/var/lib/jalm/files"])
        #expect(!e.syscalls.contains("io_uring_setup"))
        #expect(e.unresolved.isEmpty)
    }

    @Test func aPathWhosePlaceholderHasNoValueIsLeftOutAndSaid() throws {
        let e = try load(Self.ioFile).get().effective(placeholders: ["bin": "/b", "data": "/d"])
        #expect(e.readOnly == ["/b", "/usr/lib"])
        #expect(e.unresolved == ["{swift_runtime}"])
        #expect(e.json["unresolved"] == ["{swift_runtime}"])
    }

    @Test func theLauncherArgumentsAreExactlyTheLaunchersOptions() throws {
        let e = try load(Self.ioFile).get().effective(placeholders: Self.placeholders)
        let args = e.launcherArguments(cgroupDirectories: ["/cg/memory/x", "/cg/pids/x"], user: (uid: 999, gid: 998))
        let allows = e.syscalls.flatMap { ["--allow", $0] }
        #expect(args == [
            "--cgroup", "/cg/memory/x", "--cgroup", "/cg/pids/x",
            "--rlimit", "core=0", "--rlimit", "nofile=1024", "--rlimit", "stack=8388608:unlimited",
            "--unshare", "net,ipc,uts",
            "--fs-ro", "/opt/jalm/bin", "--fs-ro", "/usr/lib", "--fs-ro", "/opt/swift/lib",
            "--fs-rw", "/var/lib/jalm/files",
            "--net", "none", "--user", "999:998", "--seccomp-default", "kill-process",
        ] + allows + ["--errno", "io_uring_setup=38", "--errno", "statx=38", "--errno", "socket=13"])
    }

    @Test func aLayerWithoutSocketGetsEACCESAndOneWithSocketGetsItsDomains() throws {
        let none = try load(Self.ioFile).get().effective(placeholders: Self.placeholders)
            .launcherArguments(cgroupDirectories: [], user: nil)
        #expect(none.suffix(2) == ["--errno", "socket=13"])
        let text = Self.ioFile.replacingOccurrences(of: "extra: [openat2,", with: "extra: [socket, connect, openat2,")
            .replacingOccurrences(of: "network: none", with: "network: outbound")
        let outbound = try load(text).get().effective(placeholders: Self.placeholders)
            .launcherArguments(cgroupDirectories: [], user: nil)
        #expect(outbound.suffix(2) == ["--socket-domains", "inet,inet6,netlink"])
    }

    @Test func theErrnoDefaultActionIsEPERMAndNoUserMeansNoUserOption() throws {
        let text = Self.ioFile.replacingOccurrences(of: "kill-process", with: "errno")
        let args = try load(text).get().effective(placeholders: Self.placeholders)
            .launcherArguments(cgroupDirectories: [], user: nil)
        #expect(args.contains("errno:1"))
        #expect(!args.contains("--user") && !args.contains("--cgroup"))
    }

    @Test func theJSONIsWhatSandboxCheckPrints() throws {
        let j = try load(Self.ioFile).get().effective(placeholders: Self.placeholders).json
        #expect(j["default_action"] == "kill-process")
        #expect(j["network"] == "none")
        #expect(j["namespaces"] == ["net", "ipc", "uts"])
        #expect(j["errno"]?["io_uring_setup"] == "ENOSYS")
        #expect(j["rlimits"]?["nofile"] == 1024)
        #expect(j["rlimits"]?["stack"] == "8388608:unlimited")
        #expect(j["syscalls"]?.arrayValue?.count == 9)
    }

    @Test(arguments: [
        ("default_action: kill-process", "default_action: kill-thread", "/default_action"),
        ("network: none", "network: everything", "/network"),
        ("groups: [runtime, fs-read, fs-write]", "groups: [runtime, fs-raed]", "/syscalls/groups/1"),
        ("namespaces: [net, ipc, uts]", "namespaces: [ipc, uts]", "/namespaces"),
        ("namespaces: [net, ipc, uts]", "namespaces: [net, pid]", "/namespaces/1"),
        ("rlimits: {", "rlimits: {nofiles: 3, ", "/rlimits/nofiles"),
        ("errno: {io_uring_setup: ENOSYS", "errno: {io_uring_setup: ENOTATHING", "/syscalls/errno/io_uring_setup"),
        ("extra: [openat2, io_uring_setup]", "extra: [openat2, \"Bad Name\"]", "/syscalls/extra/1"),
        ("read_write: [", "read_write: [\"{home}/x\", ", "/filesystem/read_write/0"),
        ("read_write: [", "read_write: [relative/path, ", "/filesystem/read_write/0"),
        ("read_write: [", "read_write: [\"/a/../etc\", ", "/filesystem/read_write/0"),
        ("layer: io-file", "layer: io-db", "/layer"),
        ("network: none", "network: none\nnetwrok: outbound", "/netwrok"),
        ("filesystem:", "filesystem:\n  read_exec: []", "/filesystem/read_exec"),
    ])
    func aMistakeIsALoadErrorNamingTheFileAndTheField(replacing: String, with: String, pointer: String) throws {
        let e = try loadError(Self.ioFile.replacingOccurrences(of: replacing, with: with))
        #expect(e.code == .invalidInput)
        #expect(e.pointer == pointer, "\(e)")
        #expect(e.message.contains("io-file.yml"), "\(e)")
        #expect(e.details?["file"]?.stringValue?.hasSuffix("/io-file.yml") == true)
    }

    @Test func aMissingRequiredFieldIsNamed() throws {
        let e = try loadError(Self.ioFile.replacingOccurrences(of: "network: none\n", with: ""))
        #expect(e.pointer == "/network")
    }

    @Test func aBadGroupsFileIsNamedToo() throws {
        let e = try loadError(Self.ioFile, groups: "runtime: read")
        #expect(e.pointer == "/runtime")
        #expect(e.message.contains("groups.yml"))
    }

    @Test func aMissingPolicyFileIsAnError() throws {
        let dir = try TempFolder("missing")
        defer { dir.remove() }
        try dir.write("groups.yml", Self.groups)
        #expect(throws: RunnerError.self) { try SandboxPolicy.load(layer: "io-file", directory: dir.path) }
    }

    @Test func outboundNetworkNeedsNoNetworkNamespace() throws {
        let text = Self.ioFile.replacingOccurrences(of: "network: none", with: "network: outbound")
            .replacingOccurrences(of: "[net, ipc, uts]", with: "[ipc, uts]")
        let e = try load(text).get().effective(placeholders: Self.placeholders)
        #expect(e.launcherArguments(cgroupDirectories: [], user: nil).contains("outbound"))
    }

    @Test func theRepositorysGroupsFileLoadsAndHasTheDocumentedGroups() throws {
        let doc = try Document.parseFile(repositorySandboxFolder + "/groups.yml")
        let groups = try SyscallGroups.parse(doc, file: "groups.yml")
        #expect(Set(groups.groups.keys) == ["runtime", "threads", "fs-read", "fs-write", "socket-unix", "net-client",
                                            "process", "time"])
        #expect(groups.groups["runtime"]?.contains("execve") == true)
        #expect(groups.groups["socket-unix"]?.contains("socket") == false, "socket-unix must not make sockets")
        #expect(groups.groups["net-client"]?.contains("bind") == false, "a layer never serves")
        #expect(groups.groups["fs-write"]?.contains("fchown") == false)
    }
}

extension Document {
    static func parseFile(_ path: String) throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try parse(Array(data), contentType: "yaml")
    }
}

@Suite struct RepositoryPolicyTests {
    static let layers = ["io-http", "io-db", "io-file", "compute-script", "render-html", "notify-mq"]

    @Test(arguments: layers)
    func everyLayerPolicyInTheRepositoryLoads(layer: String) throws {
        let path = repositorySandboxFolder + "/\(layer).yml"
        try #require(FileManager.default.fileExists(atPath: path), "no \(path) yet")
        let p = try SandboxPolicy.load(layer: layer, directory: repositorySandboxFolder)
        let e = p.effective(placeholders: ["data": "/d", "bin": "/b", "share": "/s", "exe": "/b/x", "swift_runtime": "/r", "plugin": "/p"])
        #expect(e.unresolved.isEmpty)
        #expect(e.syscalls.contains("exit_group"))
    }
}
