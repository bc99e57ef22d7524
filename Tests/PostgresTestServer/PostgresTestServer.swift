#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A throwaway PostgreSQL server for io-db's tests: Debian's `postgres` binaries, `initdb` into a temp
/// folder, listening on a free 127.0.0.1 port (and a socket in that folder), SCRAM password for the
/// role `jalm`. postgres refuses to run as root, so as root it runs as `nobody` through `setpriv` (the
/// folder chowned to it). Started by PID and stopped by that PID only.
public final class PostgresTestServer: @unchecked Sendable {
    public let port: Int
    public let root: String
    public let password: String
    public let binDir: String
    public private(set) var pid: pid_t = 0

    /// `postgresql://jalm:…@127.0.0.1:PORT/postgres`, what a layer setting `dsn` holds (as a secret).
    public var dsn: String { "postgresql://jalm:\(password)@127.0.0.1:\(port)/postgres" }

    /// Why this machine cannot run the server, or nil when it can.
    public static var unavailableReason: String? {
        binDirectory() == nil ? "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt package postgresql)" : nil
    }

    static func binDirectory() -> String? {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(base)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") }
    }

    public init() throws {
        guard let bin = Self.binDirectory() else { throw PostgresTestError(Self.unavailableReason!) }
        binDir = bin
        var template = Array("/tmp/jalm-pg-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        password = "pw" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
        port = try Self.freePort()
        let pwfile = root + "/pw"
        try password.write(toFile: pwfile, atomically: true, encoding: .utf8)
        if getuid() == 0 { try Self.run("/bin/chown", ["-R", "nobody:nogroup", root]) }
        try runAsServerUser(bin + "/initdb", ["-D", root + "/data", "-U", "jalm", "--auth=scram-sha-256",
                                              "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        let argv = [bin + "/postgres", "-D", root + "/data", "-p", "\(port)", "-k", root,
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off", "-c", "max_connections=60", "-c", "shared_buffers=32MB",
                    "-c", "logging_collector=off"]
        pid = try Self.spawn(serverCommand(argv), log: root + "/postgres.log")
        try waitReady()
    }

    /// `psql` on the server as `jalm`; returns its output (unaligned, tuples only), throws on failure.
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        try Self.run(binDir + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql])
    }

    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGINT)  // fast shutdown
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(pid, &status, WNOHANG) == pid { pid = 0; break }
            usleep(10_000)
        }
        if pid > 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0); pid = 0 }
        try? FileManager.default.removeItem(atPath: root)
    }

    deinit { stop() }

    private func serverCommand(_ argv: [String]) -> [String] {
        getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + argv : argv
    }

    private func runAsServerUser(_ path: String, _ args: [String]) throws {
        let command = serverCommand([path] + args)
        try Self.run(command[0], Array(command.dropFirst()))
    }

    private func waitReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? psql("SELECT 1")) != nil { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                let log = (try? String(contentsOfFile: root + "/postgres.log", encoding: .utf8)) ?? ""
                throw PostgresTestError("postgres exited at start: \(log)")
            }
            usleep(50_000)
        }
        throw PostgresTestError("postgres did not answer within 30 s")
    }

    /// A port nobody listens on now: bind 127.0.0.1:0, read it, close.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw PostgresTestError("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @discardableResult
    static func run(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw PostgresTestError("\(path) \(args.joined(separator: " ")): \(text)") }
        return text
    }

    static func spawn(_ argv: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cargs, environ)
        guard rc == 0 else { throw PostgresTestError("cannot start \(argv[0]): errno \(rc)") }
        return pid
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
