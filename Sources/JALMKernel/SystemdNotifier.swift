#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify(3) protocol without libsystemd: one datagram of `KEY=value` lines to the Unix socket
/// named by `$NOTIFY_SOCKET` (a path, or an abstract name written `@name`). Nil outside systemd.
public final class SystemdNotifier: Sendable {
    /// The socket's address, as `$NOTIFY_SOCKET` gave it.
    public let address: String
    /// Half of `$WATCHDOG_USEC` when the watchdog is meant for this process, else nil.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`; nil when there is no
    /// socket to tell (not under systemd, or `Type=` is not notify).
    public init?(environment: [String: String], pid: Int32 = getpid()) {
        guard let address = environment["NOTIFY_SOCKET"], Self.isValid(address) else { return nil }
        self.address = address
        self.watchdogInterval = Self.watchdogInterval(environment: environment, pid: pid)
    }

    /// sd_watchdog_enabled(3): `WATCHDOG_USEC` applies when `WATCHDOG_PID` is unset or names this process.
    /// Pings go at half the interval, as the man page advises, so one late tick does not kill the daemon.
    public static func watchdogInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return .microseconds(Int64(clamping: usec / 2))
    }

    /// A path (`/run/systemd/notify`) or an abstract name (`@…`) that fits in `sun_path`.
    static func isValid(_ address: String) -> Bool {
        (address.hasPrefix("/") || address.hasPrefix("@")) && address.utf8.count < 108
    }

    /// Sends `state` (`READY=1`, `STATUS=…`, several lines joined by `\n`). Returns 0, or the errno of
    /// the failed `sendto`; a lost notification is not fatal, systemd's timeouts judge the daemon then.
    @discardableResult
    public func send(_ state: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace: a leading NUL, no terminator
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let payload = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent < 0 ? errno : 0
    }

    /// What a daemon removes from its environment once it has read it, so that no child (a plugin, the
    /// launcher) can speak for it or inherit the activated sockets (sd_notify(3), sd_listen_fds(3)).
    public static let environmentKeys = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                         "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
}
