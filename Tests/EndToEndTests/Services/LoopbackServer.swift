#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What the loopback servers of the notify-mq tests share: a free port, a process started and stopped by
/// its PID, and the Python helpers in Tests/NotifyMQServers.
enum Loopback {
    /// A port nobody listens on now: bind 127.0.0.1:0, read the port, close. (Another process could take it
    /// before the server binds; the server's start then fails loudly rather than talking to a stranger.)
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:port.
    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Waits up to `seconds` for the port to accept; throws with the server's log if it does not.
    static func waitForPort(_ port: Int, pid: pid_t, log: String, seconds: Double = 15) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if isListening(port) { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw DaemonError("server exited at start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
        throw DaemonError("server did not listen on port \(port) in \(seconds) s: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// SIGKILL and reap: these servers hold nothing worth a clean shutdown, and a child of the test runner
    /// may inherit a blocked SIGTERM (redis-server then ignores it). Only ever the PID this test started,
    /// and only while it is still our unreaped child.
    static func stop(_ pid: pid_t) {
        guard pid > 0 else { return }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) != 0 { return }   // already reaped (or not ours): never signal it
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    static let helpers = Daemon.repoDir + "/Tests/NotifyMQServers"

    /// The `python3` on PATH: the one `scripts/deps.sh` installs PyPI packages (aiosmtpd) for.
    static let python: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/python3") {
            return "\(dir)/python3"
        }
        return "/usr/bin/python3"
    }()

    /// Runs a helper to completion and returns its stdout (throws on a non-zero exit, with its stderr).
    @discardableResult
    static func run(_ path: String, _ args: [String], timeout: Double = 20) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw DaemonError("\(path) \(args.joined(separator: " ")) exited \(p.terminationStatus): "
                              + String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether an executable exists; a test that needs a missing one reports it (`MissingTool`) and returns.
    static func have(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Reads a helper's JSON-lines output file.
    static func jsonLines(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// A helper process that runs until stopped (a subscriber, a receiver), started by its PID.
final class BackgroundHelper {
    let pid: pid_t
    let output: String
    init(_ args: [String], output: String) throws {
        self.output = output
        pid = try Daemon.spawn(Loopback.python, args + [output], log: output + ".log")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Loopback.jsonLines(output).first?["ready"] as? Bool == true { return }
            usleep(20_000)
        }
        Loopback.stop(pid)
        throw DaemonError("helper \(args) did not become ready: \((try? String(contentsOfFile: output + ".log", encoding: .utf8)) ?? "")")
    }
    /// Lines after the `ready` line.
    var messages: [[String: Any]] { Array(Loopback.jsonLines(output).dropFirst()) }
    func stop() { Loopback.stop(pid) }
    deinit { stop() }
}
