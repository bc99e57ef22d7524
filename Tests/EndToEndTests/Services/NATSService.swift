import Foundation
import JALMWire

/// Debian's nats-server on a free loopback port with JetStream (its own store folder) and a user, named
/// `main` in `layers.notify-mq.nats`; a stream EVENTS captures `events.>` (2 min duplicate window).
final class NATSService: TestService {
    static let binary = "/usr/sbin/nats-server"
    let port: Int
    let dir: String
    let user = "jalm"
    let password = "nats-test-password"
    let pid: pid_t

    init() throws {
        dir = Daemon.makeTempDir()
        port = Loopback.freePort()
        try """
            listen: 127.0.0.1:\(port)
            jetstream { store_dir: "\(dir)/js", max_memory_store: 64MB, max_file_store: 64MB }
            authorization { user: \(user), password: "\(password)" }
            """.write(toFile: dir + "/nats.conf", atomically: true, encoding: .utf8)
        pid = try Daemon.spawn(Self.binary, ["-c", dir + "/nats.conf"], log: dir + "/nats.log")
        try Loopback.waitForPort(port, pid: pid, log: dir + "/nats.log")
        let created = try request("$JS.API.STREAM.CREATE.EVENTS",
                                  #"{"name":"EVENTS","subjects":["events.>"],"storage":"memory","duplicate_window":120000000000}"#)
        guard created["error"] == nil else { throw DaemonError("cannot create the EVENTS stream: \(created)") }
    }

    var vars: [String: JSONValue] { ["nats_server": "main", "nats_port": .int(Int64(port))] }
    var layerConfig: [String: JSONValue] {
        ["notify-mq": ["nats": ["main": ["host": "127.0.0.1", "port": .int(Int64(port)), "user": .string(user),
                                         "password": ["secret": "nats_password"]]]]]
    }
    var secrets: [String: String] { ["nats_password": password] }

    /// A request through the probe (JetStream API); the reply as JSON.
    func request(_ subject: String, _ body: String) throws -> JSONValue {
        let out = try Loopback.run(Loopback.python, [Loopback.helpers + "/notify_probe.py", "nats-request",
                                                        "127.0.0.1", String(port), user, password, subject, body])
        return try JSONParser.parse(Array(out.utf8))
    }

    /// How many messages the EVENTS stream holds.
    func eventsCount() throws -> Int64 {
        try request("$JS.API.STREAM.INFO.EVENTS", "")["state"]?["messages"]?.intValue ?? -1
    }

    func subscribe(_ subject: String) throws -> BackgroundHelper {
        try BackgroundHelper([Loopback.helpers + "/notify_probe.py", "nats-subscribe", "127.0.0.1", String(port),
                              user, password, subject], output: dir + "/sub-\(UInt32.random(in: 0...UInt32.max)).jsonl")
    }

    func stop() {
        Loopback.stop(pid)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
