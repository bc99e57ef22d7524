extension EffectivePolicy {
    /// `jalm-launch`'s options for this policy, everything before the `--` (the caller appends `--`, the
    /// executable and its arguments). The order follows the launcher's own: cgroup, rlimit, unshare,
    /// Landlock paths and network, user, seccomp.
    /// `delegatedCgroupDirectories`: the cgroup folders a `{cgroup}` policy may write (CgroupLeaf.delegatedDirectories).
    public func launcherArguments(cgroupDirectories: [String], user: (uid: UInt32, gid: UInt32)?,
                                  delegatedCgroupDirectories: [String] = []) -> [String] {
        var a: [String] = []
        for dir in cgroupDirectories { a += ["--cgroup", dir] }
        for r in rlimits { a += ["--rlimit", r.launcherValue] }
        if !namespaces.isEmpty { a += ["--unshare", namespaces.map(\.rawValue).joined(separator: ",")] }
        for p in readOnly { a += ["--fs-ro", p] }
        for p in readWrite { a += ["--fs-rw", p] }
        // Non-empty only for a policy that delegates its cgroup (the caller decides).
        for dir in delegatedCgroupDirectories { a += ["--fs-rw", dir] }
        a += ["--net", network.rawValue]
        if let user { a += ["--user", "\(user.uid):\(user.gid)"] }
        // errno:1 is EPERM, what "errno" as a default action means.
        a += ["--seccomp-default", defaultAction == .killProcess ? "kill-process" : "errno:1"]
        for s in syscalls { a += ["--allow", s] }
        for name in errno.keys.sorted() { a += ["--errno", "\(name)=\(errno[name]!.value)"] }
        if syscalls.contains("socket") && errno["socket"] == nil {
            // Landlock (ABI 7) does not mediate connect() to a Unix socket path: without this, a network
            // layer could open AF_UNIX and talk to the control socket. IP and netlink (getaddrinfo) only.
            a += ["--socket-domains", network == .outbound ? "inet,inet6,netlink" : "unix"]
        } else if errno["socket"] == nil {
            // No socket at all: fail softly (EACCES) rather than kill, since libc's syslog() and nscd
            // lookups try an AF_UNIX socket and carry on without it. The hostile tests assert EACCES.
            a += ["--errno", "socket=13"]
        }
        return a
    }
}
