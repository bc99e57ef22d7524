#if canImport(Glibc)
import Glibc
#endif

/// sd_listen_fds(3) without libsystemd: the listening sockets systemd passed (`jalmd.socket`), from fd 3 on,
/// counted by `$LISTEN_FDS` and meant for this process when `$LISTEN_PID` is its pid.
public enum SocketActivation {
    /// The first passed fd.
    public static let firstFD: Int32 = 3

    /// fd → name (`FileDescriptorName=`, or "unknown") of each passed socket; empty when none is for us.
    public static func passed(environment: [String: String], pid: Int32 = getpid()) -> [(fd: Int32, name: String)] {
        guard let owner = environment["LISTEN_PID"].flatMap({ Int32($0) }), owner == pid,
              let count = environment["LISTEN_FDS"].flatMap({ Int32($0) }), count > 0, count < 64 else { return [] }
        let names = (environment["LISTEN_FDNAMES"] ?? "").split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        return (0..<count).map { i in (firstFD + i, Int(i) < names.count ? names[Int(i)] : "unknown") }
    }

    /// The control socket among them: the one named "control", else the only one. Marked close-on-exec,
    /// so that no plugin inherits it.
    public static func controlSocket(environment: [String: String], pid: Int32 = getpid()) -> Int32? {
        let fds = passed(environment: environment, pid: pid)
        let fd = fds.first { $0.name == "control" }?.fd ?? (fds.count == 1 ? fds[0].fd : nil)
        if let fd { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }
}
