import JALMCore

/// Reads what confines a running process from /proc: per-thread seccomp and no_new_privs, capabilities,
/// uid, namespaces, cgroups. The kernel's own view, so a launcher bug cannot hide behind its exit code.
public enum ProcessAudit {
    /// The namespaces compared with the daemon's own (`/proc/PID/ns/<name>`).
    public static let namespaceNames = ["net", "ipc", "uts", "mnt", "user"]

    /// Inspects process `pid`; `proc` is where procfs is mounted. Fails with `not_found` when the
    /// process is gone or its status cannot be read.
    public static func inspect(pid: Int32, proc: String = "/proc") throws(RunnerError) -> ProcessConfinement {
        let base = "\(proc)/\(pid)"
        guard let status = SysFile.read(base + "/status") else {
            throw RunnerError(.notFound, "process \(pid) is gone (no \(base)/status)")
        }
        let main = StatusFields(status)
        // Each thread has its own seccomp filter and no_new_privs bit: a thread started before the
        // filter was loaded (TSYNC not used) would run unfiltered, so every one is read.
        var threads: [ProcessConfinement.ThreadState] = []
        for tid in SysFile.list(base + "/task") {
            guard let text = SysFile.read("\(base)/task/\(tid)/status") else { continue }  // thread ended
            let f = StatusFields(text)
            threads.append(.init(tid: Int32(tid) ?? 0, seccomp: f.int("Seccomp"), noNewPrivs: f.int("NoNewPrivs")))
        }
        if threads.isEmpty {
            threads = [.init(tid: pid, seccomp: main.int("Seccomp"), noNewPrivs: main.int("NoNewPrivs"))]
        }
        var namespaces: [String: String] = [:], own: [String: String] = [:]
        for ns in namespaceNames {
            namespaces[ns] = SysFile.readLink("\(base)/ns/\(ns)")
            own[ns] = SysFile.readLink("\(proc)/self/ns/\(ns)")
        }
        let cgroups = (SysFile.read(base + "/cgroup") ?? "").split(separator: "\n").map(String.init)
        return ProcessConfinement(
            pid: pid, threads: threads, capEff: main.hex("CapEff"), capPrm: main.hex("CapPrm"),
            capBnd: main.hex("CapBnd"), uids: main.ints("Uid"), namespaces: namespaces, daemonNamespaces: own,
            cgroups: cgroups)
    }
}

/// `Name:\tvalue` lines of /proc/PID/status.
struct StatusFields {
    var fields: [Substring: Substring] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        }
    }

    func int(_ key: Substring) -> Int? { fields[key].flatMap { Int($0) } }
    func hex(_ key: Substring) -> UInt64? { fields[key].flatMap { UInt64($0, radix: 16) } }
    func ints(_ key: Substring) -> [UInt32] {
        (fields[key] ?? "").split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
    }
}
