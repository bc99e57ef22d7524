#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient

/// A real jalmd started for a benchmark: posix_spawn with `JALM_SHARE` pointing at the checkout, then wait
/// until `GET /health` answers on its control socket. `stop()` sends SIGTERM and reaps it.
struct BenchDaemon {
    let pid: pid_t
    let socket: String

    /// `arguments` follow the jalmd path (for example `--config FILE` or `--data DIR --socket S`).
    init(binDir: String, shareDir: String, arguments: [String], socket: String) throws {
        var pid: pid_t = 0
        let args = [binDir + "/jalmd"] + arguments + ["--log-level", "warning"]
        let argv = args.map { strdup($0) } + [nil]
        var env = ProcessInfo.processInfo.environment
        env["JALM_SHARE"] = shareDir
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        guard posix_spawn(&pid, args[0], nil, nil, argv, envp) == 0 else { throw BenchError("cannot start jalmd") }
        self.pid = pid
        self.socket = socket
        let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 2)
        for _ in 0..<500 {
            if let r = try? client.send(method: "GET", path: "/health"), r.status == 200 { return }
            usleep(20_000)
        }
        stop()
        throw BenchError("jalmd did not become healthy")
    }

    /// The usual benchmark daemon: its own data folder, the control socket only.
    init(binDir: String, shareDir: String, dataDir: String, socket: String) throws {
        try self.init(binDir: binDir, shareDir: shareDir,
                      arguments: ["--data", dataDir, "--socket", socket, "--listen", "none"], socket: socket)
    }

    /// A daemon read from a config file (settings for layers, secrets).
    init(binDir: String, shareDir: String, config: String, socket: String) throws {
        try self.init(binDir: binDir, shareDir: shareDir, arguments: ["--config", config], socket: socket)
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
