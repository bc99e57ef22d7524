import Foundation
import JALMWire

/// Debian's redis-server on a free loopback port, with its own folder and a password; named `main` in
/// `layers.notify-mq.redis`, the password reaching the layer as the secret `redis_password`.
final class RedisService: TestService {
    static let binary = "/usr/bin/redis-server"
    let port: Int
    let dir: String
    let password = "redis-test-password"
    let pid: pid_t

    init() throws {
        dir = Daemon.makeTempDir()
        port = Loopback.freePort()
        pid = try Daemon.spawn(Self.binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
            "--requirepass", password, "--daemonize", "no", "--logfile", "",
        ], log: dir + "/redis.log")
        try Loopback.waitForPort(port, pid: pid, log: dir + "/redis.log")
    }

    var vars: [String: JSONValue] { ["redis_server": "main", "redis_port": .int(Int64(port))] }
    var layerConfig: [String: JSONValue] {
        ["notify-mq": ["redis": ["main": ["host": "127.0.0.1", "port": .int(Int64(port)),
                                          "password": ["secret": "redis_password"]]]]]
    }
    var secrets: [String: String] { ["redis_password": password] }

    /// One command through the probe; the reply as JSON.
    func command(_ args: String...) throws -> JSONValue {
        let out = try Loopback.run(Loopback.python, [Loopback.helpers + "/notify_probe.py", "redis-command",
                                                        "127.0.0.1", String(port), password] + args)
        return try JSONParser.parse(Array(out.utf8))
    }

    func subscribe(_ channel: String) throws -> BackgroundHelper {
        try BackgroundHelper([Loopback.helpers + "/notify_probe.py", "redis-subscribe", "127.0.0.1", String(port),
                              password, channel], output: dir + "/sub-\(channel)-\(UInt32.random(in: 0...UInt32.max)).jsonl")
    }

    func stop() {
        Loopback.stop(pid)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
