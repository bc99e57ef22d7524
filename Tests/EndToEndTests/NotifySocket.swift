#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A datagram socket in the abstract namespace posing as systemd's notify socket: it records every
/// sd_notify message jalmd sends, with the time it arrived.
final class NotifySocket: Sendable {
    /// The value for `NOTIFY_SOCKET` (`@name`).
    let address: String
    private let fd: Int32
    private let received = Mutex<[(at: Date, lines: [String])]>([])
    private let stopped = Mutex(false)

    init() throws {
        address = "@jalm-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        bytes[0] = 0
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else { throw DaemonError("bind \(address): errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in self.readLoop() }
        thread.start()
    }

    private func readLoop() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while !stopped.withLock({ $0 }) {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { continue }
            let lines = String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
            received.withLock { $0.append((Date(), lines)) }
        }
        close(fd)
    }

    /// Every line received so far, in order, with its arrival time.
    var lines: [(at: Date, line: String)] {
        received.withLock { r in r.flatMap { m in m.lines.map { (m.at, $0) } } }
    }

    /// When `line` (or a line starting with it) first arrived, waiting up to `seconds`.
    func wait(for line: String, after: Date = .distantPast, seconds: Double = 20) -> Date? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let hit = lines.first(where: { $0.at >= after && $0.line.hasPrefix(line) }) { return hit.at }
            usleep(10_000)
        }
        return nil
    }

    func count(_ line: String) -> Int { lines.filter { $0.line == line }.count }

    /// Ends the reader thread (it holds the socket open until then).
    func stop() { stopped.withLock { $0 = true } }
}
