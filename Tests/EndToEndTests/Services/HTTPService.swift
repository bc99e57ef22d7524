#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire

/// The loopback HTTP(S) server of the io-http examples and tests (scripts/http-test-server.py): HTTP on
/// 127.0.0.1 and ::1, HTTPS on 127.0.0.1 with a CA made by openssl for this run, and a log of every
/// connection it accepted.
///
/// Vars: `http_url`, `http6_url` (when the machine has ::1), `https_url` (its host has the CA configured)
/// and `https_url_no_ca` (same server as `localhost`, for which no CA is configured). Layer settings:
/// io-http allows 127.0.0.1/32 only, trusts the CA for host 127.0.0.1, and reads the llm key from the secret
/// `llm_key`.
final class HTTPService: TestService {
    let workDir: String
    let pid: pid_t
    let httpPort: Int
    let http6Port: Int?
    let httpsPort: Int
    let caPEM: String

    init() throws {
        workDir = Daemon.makeTempDir()
        let out = workDir + "/ports.json"
        pid = try Daemon.spawn("/usr/bin/env", ["python3", Daemon.repoDir + "/scripts/http-test-server.py", workDir],
                               log: out)
        let deadline = Date().addingTimeInterval(20)
        var ports: JSONValue?
        while Date() < deadline {
            if let text = try? String(contentsOfFile: out, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
               let v = try? JSONParser.parse(String(line)) {
                ports = v
                break
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw DaemonError("http-test-server.py exited: \((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
        guard let ports, let http = ports["http"]?.intValue, let https = ports["https"]?.intValue else {
            kill(pid, SIGKILL)
            throw DaemonError("http-test-server.py did not report its ports in 20 s")
        }
        httpPort = Int(http)
        httpsPort = Int(https)
        http6Port = ports["http6"]?.intValue.map { Int($0) }
        caPEM = try String(contentsOfFile: workDir + "/ca.pem", encoding: .utf8)
    }

    var httpURL: String { "http://127.0.0.1:\(httpPort)" }
    var http6URL: String? { http6Port.map { "http://[::1]:\($0)" } }

    var vars: [String: JSONValue] {
        var v: [String: JSONValue] = [
            "http_url": .string(httpURL),
            "http_port": .int(Int64(httpPort)),
            "https_url": .string("https://127.0.0.1:\(httpsPort)"),
            "https_url_no_ca": .string("https://localhost:\(httpsPort)"),
        ]
        if let http6URL { v["http6_url"] = .string(http6URL) }
        return v
    }

    var layerConfig: [String: JSONValue] {
        ["io-http": ["allow": ["127.0.0.1/32"], "ca_bundles": ["127.0.0.1": .string(caPEM)],
                     "llm": ["api_key": ["secret": "llm_key"]]]]
    }

    var secrets: [String: String] { ["llm_key": "test-llm-key"] }

    /// Every connection the server accepted so far, as `<listener> <peer>` lines.
    func connections() -> [String] {
        ((try? String(contentsOfFile: workDir + "/connections.log", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    func stop() {
        // SIGKILL: the test process may block SIGTERM in the spawning thread, and a spawned child inherits
        // that mask, so a SIGTERM could wait for ever (this hung the catalog test).
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(atPath: workDir)
    }
}
