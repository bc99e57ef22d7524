import JALMWire

/// What a running process is confined by, as /proc shows it (see `ProcessAudit.inspect`).
public struct ProcessConfinement: Sendable, Hashable {
    /// One thread's seccomp mode (0 off, 1 strict, 2 filter) and no_new_privs bit; nil when unreadable.
    public struct ThreadState: Sendable, Hashable {
        public var tid: Int32
        public var seccomp: Int?
        public var noNewPrivs: Int?

        public init(tid: Int32, seccomp: Int?, noNewPrivs: Int?) {
            self.tid = tid
            self.seccomp = seccomp
            self.noNewPrivs = noNewPrivs
        }
    }

    public var pid: Int32
    public var threads: [ThreadState]
    public var capEff: UInt64?
    public var capPrm: UInt64?
    public var capBnd: UInt64?
    /// Real, effective, saved and filesystem uid.
    public var uids: [UInt32]
    /// `/proc/PID/ns/<name>` link targets (`net:[4026532281]`).
    public var namespaces: [String: String]
    /// The same links of the process that ran the audit (the daemon).
    public var daemonNamespaces: [String: String]
    /// `/proc/PID/cgroup` lines (`4:memory:/…/jalm/io-file-0`, `0::/…`).
    public var cgroups: [String]

    public init(pid: Int32, threads: [ThreadState], capEff: UInt64?, capPrm: UInt64?, capBnd: UInt64?, uids: [UInt32],
                namespaces: [String: String], daemonNamespaces: [String: String], cgroups: [String]) {
        self.pid = pid
        self.threads = threads
        self.capEff = capEff
        self.capPrm = capPrm
        self.capBnd = capBnd
        self.uids = uids
        self.namespaces = namespaces
        self.daemonNamespaces = daemonNamespaces
        self.cgroups = cgroups
    }

    /// The namespaces (by /proc/PID/ns name) in which the process is not where the daemon is.
    public var separateNamespaces: [String] {
        ProcessAudit.namespaceNames.filter { ns in
            guard let mine = namespaces[ns] else { return false }
            return mine != daemonNamespaces[ns]
        }
    }

    /// The weakest seccomp mode among the threads (what counts).
    public var seccompMode: Int { threads.map { $0.seccomp ?? 0 }.min() ?? 0 }
    /// Whether every thread has no_new_privs.
    public var noNewPrivs: Bool { !threads.isEmpty && threads.allSatisfy { $0.noNewPrivs == 1 } }

    /// Every way the process falls short of `expected`; empty when it passes.
    public func check(against expected: ExpectedConfinement) -> [String] {
        var failures: [String] = []
        for t in threads where t.seccomp != 2 {
            failures.append("thread \(t.tid): Seccomp \(t.seccomp.map(String.init) ?? "?"), want 2 (filter)")
        }
        for t in threads where t.noNewPrivs != 1 {
            failures.append("thread \(t.tid): NoNewPrivs \(t.noNewPrivs.map(String.init) ?? "?"), want 1")
        }
        if capEff != 0 { failures.append("CapEff \(capEff.map(Self.hex) ?? "?"), want 0") }
        let separate = separateNamespaces
        for ns in expected.namespaces where !separate.contains(ns.procName) {
            failures.append("\(ns.procName) namespace is the daemon's own (\(namespaces[ns.procName] ?? "unreadable"))")
        }
        for dir in expected.cgroupDirectories where !isIn(cgroupDirectory: dir) {
            failures.append("not in cgroup \(dir) (/proc/\(pid)/cgroup: \(cgroups.joined(separator: " ")))")
        }
        return failures
    }

    /// Whether a /proc/PID/cgroup line places the process in `dir`: v1 `N:ctrl,…:/path` matches a folder
    /// ending in `/ctrl/path`, v2 `0::/path` one ending in `/path` (the mount point is not known here).
    public func isIn(cgroupDirectory dir: String) -> Bool {
        let dir = Placeholders.normalize(dir)
        return cgroups.contains { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2] != "/" else { return false }
            let path = String(parts[2])
            // v2: a process that delegates its leaf (compute-script) lives in `<leaf>/layer`, since v2 lets
            // no cgroup with processes hand controllers to its children; it is still beneath its limits.
            if parts[1].isEmpty { return dir.hasSuffix(path) || (path.hasSuffix("/layer") && dir.hasSuffix(String(path.dropLast(6)))) }
            return parts[1].split(separator: ",").contains { dir.hasSuffix("/\($0)\(path)") }
        }
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// The audit's view for GET /layers.
    public var json: JSONValue {
        [
            "pid": .int(Int64(pid)), "seccomp": .int(Int64(seccompMode)), "no_new_privs": .bool(noNewPrivs),
            "cap_eff": capEff.map { .string(Self.hex($0)) } ?? .null,
            "namespaces": .array(separateNamespaces.map { .string($0 == "mnt" ? "mount" : $0) }),
            "cgroups": .array(cgroups.map { .string($0) }), "threads": .int(Int64(threads.count)),
            "uid": uids.count > 1 ? .int(Int64(uids[1])) : .null,
        ]
    }
}

/// What the audit requires of a layer process: the namespaces its policy unshares, the cgroup folders
/// it joins. Seccomp filter mode, no_new_privs on every thread and no effective capability always.
public struct ExpectedConfinement: Sendable, Hashable {
    public var namespaces: [SandboxPolicy.Namespace]
    public var cgroupDirectories: [String]

    public init(namespaces: [SandboxPolicy.Namespace], cgroupDirectories: [String]) {
        self.namespaces = namespaces
        self.cgroupDirectories = cgroupDirectories
    }
}
