#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// redis.xadd and redis.publish through the real daemon (sandbox enforced) to a real redis-server.
@Suite(.serialized) struct NotifyMQRedisTests {
    /// A redis-server and a daemon configured for it; nil (a failure, see `MissingTool`) when redis-server is missing.
    static func start() throws -> (RedisService, Daemon)? {
        guard Loopback.have(RedisService.binary) else {
            MissingTool.report(RedisService.binary, installedBy: "scripts/deps.d/notify-mq.apt")
            return nil
        }
        let redis = try RedisService()
        do {
            return (redis, try Daemon(config: TestServices.daemonConfig([redis]), secrets: redis.secrets))
        } catch {
            redis.stop()
            throw error
        }
    }

    static func step(_ op: String, _ input: JSONValue, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var s: [String: JSONValue] = ["id": "n", "layer": "notify-mq", "op": .string(op), "input": input]
        for (k, v) in extra { s[k] = v }
        return ["intent": .string("notify-mq test \(op)"), "steps": [.object(s)]]
    }

    /// Runs `capsule` against a server stopped with SIGSTOP, resumes the server once the kernel has
    /// dispatched the second attempt (the first has timed out with its command written), and returns the
    /// finished execution. Driven by the journal, not by a timer, so a slow machine cannot reorder it.
    static func runStalled(_ daemon: Daemon, _ capsule: JSONValue, server pid: pid_t) throws -> JSONValue {
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let (status, accepted) = try daemon.request("POST", "/exec", json: capsule)
        guard status == 202, let id = accepted["execution_id"]?.stringValue else { throw DaemonError("not accepted: \(accepted)") }
        let view = { try daemon.request("GET", "/exec/\(id)").1 }
        #expect(try daemon.waitUntil(15) { (try view()["steps"]?[0]?["runs"]?.arrayValue?.count ?? 0) >= 2 })
        kill(pid, SIGCONT)
        #expect(try daemon.waitUntil(15) { ["completed", "failed"].contains(try view()["state"]?.stringValue ?? "") })
        return try view()
    }

    @Test func xaddStoresTheFieldsAndTheIdempotencyKey() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        let view = try daemon.run(Self.step("redis.xadd", ["server": "main", "stream": "orders",
                                                           "fields": ["order": "42", "total": 19.5, "tags": ["a"]]]))
        #expect(view["state"] == "completed", "\(view)")
        let output = view["outputs"]?["n"]
        let key = "\(view["id"]?.stringValue ?? "")/n/1"
        let entries = try redis.command("XRANGE", "orders", "-", "+")
        #expect(entries.arrayValue?.count == 1)
        #expect(entries[0]?[0] == output?["id"])
        // Fields as a flat list, sorted by name, then the key the layer adds.
        #expect(entries[0]?[1] == ["order", "42", "tags", #"["a"]"#, "total", "19.5", "jalm_idempotency_key", .string(key)])
        #expect(output?["deduplicated"] == false)
    }

    /// The server stalls (SIGSTOP) after the first attempt wrote its command; the attempt times out and the
    /// step is retried with the same idempotency key. When the server resumes it runs both scripts: the
    /// first adds the entry, the second finds the marker. One entry, two EVALs.
    @Test func aRetryWhileTheServerStalledAddsOnce() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        let view = try Self.runStalled(daemon, Self.step(
            "redis.xadd", ["server": "main", "stream": "retried", "fields": ["n": "1"]],
            ["timeout": "1s", "retry": ["max": 1, "base": "50ms", "jitter": 0]]), server: redis.pid)
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 2, "\(view)")
        #expect(view["steps"]?[0]?["runs"]?[0]?["error"]?["code"] == "timeout", "\(view)")
        #expect(try redis.command("XLEN", "retried") == 1)
        let evals = try redis.command("INFO", "commandstats").stringValue ?? ""
        #expect(evals.contains("cmdstat_eval:calls=2"), "\(evals)")
    }

    /// The replay case: jalmd is killed (-9) while an XADD is in flight at a stalled server; the server then
    /// runs it. The restarted jalmd re-runs the step (the card says idempotent) with the same key, and the
    /// guard answers the first entry instead of adding a second.
    @Test func aStepReRunAfterAKernelCrashAddsOnce() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        kill(redis.pid, SIGSTOP)
        let (status, accepted) = try daemon.request("POST", "/exec", json: Self.step(
            "redis.xadd", ["server": "main", "stream": "replayed", "fields": ["n": "1"]]))
        #expect(status == 202, "\(accepted)")
        let id = try #require(accepted["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        usleep(200_000)   // the plugin has written its pipelined command into the stalled server's socket
        daemon.kill9()
        kill(redis.pid, SIGCONT)
        #expect(daemon.waitUntil(5) { (try? redis.command("XLEN", "replayed")) == 1 })
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["outputs"]?["n"]?["deduplicated"] == true, "\(view)")
        #expect(try redis.command("XLEN", "replayed") == 1)
        let entries = try redis.command("XRANGE", "replayed", "-", "+")
        #expect(entries[0]?[0] == view["outputs"]?["n"]?["id"])
    }

    @Test func publishReachesASubscriberAsAnEnvelopeWithTheKey() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        let sub = try redis.subscribe("alerts")
        defer { sub.stop() }
        let view = try daemon.run(Self.step("redis.publish", ["server": "main", "channel": "alerts",
                                                              "message": ["level": "warn", "text": "disk 91%"]]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["n"] == ["channel": "alerts", "receivers": 1, "deduplicated": false])
        #expect(daemon.waitUntil(5) { sub.messages.count == 1 })
        let payload = try JSONParser.parse(Array((sub.messages.first?["payload"] as? String ?? "").utf8))
        #expect(payload == ["data": ["level": "warn", "text": "disk 91%"],
                            "jalm_idempotency_key": .string("\(view["id"]?.stringValue ?? "")/n/1")])
    }

    @Test func aRetriedPublishWhileTheServerStalledReachesTheSubscriberOnce() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        let sub = try redis.subscribe("once")
        defer { sub.stop() }
        let view = try Self.runStalled(daemon, Self.step(
            "redis.publish", ["server": "main", "channel": "once", "message": "hello"],
            ["timeout": "1s", "retry": ["max": 1, "base": "50ms", "jitter": 0]]), server: redis.pid)
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 2, "\(view)")
        #expect(daemon.waitUntil(3) { sub.messages.count >= 1 })
        usleep(300_000)
        #expect(sub.messages.count == 1)
    }

    @Test func publishWithoutEnvelopeSendsTheMessageAsItIs() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        let sub = try redis.subscribe("raw")
        defer { sub.stop() }
        let view = try daemon.run(Self.step("redis.publish", ["server": "main", "channel": "raw",
                                                              "message": "plain text", "envelope": false]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(daemon.waitUntil(5) { sub.messages.count == 1 })
        #expect(sub.messages.first?["payload"] as? String == "plain text")
    }

    @Test func aWrongPasswordIsANonRetryableUpstreamErrorWithTheServersMessage() throws {
        guard Loopback.have(RedisService.binary) else {
            return MissingTool.report(RedisService.binary, installedBy: "scripts/deps.d/notify-mq.apt")
        }
        let redis = try RedisService()
        defer { redis.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([redis]), secrets: ["redis_password": "wrong"])
        let view = try daemon.run(Self.step("redis.xadd", ["server": "main", "stream": "s", "fields": ["a": "b"]],
                                            ["retry": ["max": 2, "base": "10ms"]]))
        let error = view["steps"]?[0]?["error"]
        #expect(error?["code"] == "upstream_error", "\(view)")
        // Not retried although the step allows it: a refused credential does not heal by itself.
        #expect(view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(error?["details"]?["reason"] == "auth_failed", "\(view)")
        #expect(error?["message"]?.stringValue?.contains("WRONGPASS") == true, "\(view)")
        #expect(try redis.command("EXISTS", "s") == 0)
    }

    @Test func aServerThatIsDownIsARetryableUpstreamError() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        redis.stop()
        let view = try daemon.run(Self.step("redis.publish", ["server": "main", "channel": "c", "message": "m"]))
        let error = view["steps"]?[0]?["error"]
        #expect(error?["code"] == "upstream_error", "\(view)")
        #expect(error?["retryable"] == true, "\(view)")
        #expect(error?["details"]?["reason"] == "connect_failed", "\(view)")
    }

    @Test func aServerThatNeverAnswersTimesOutAtTheStepTimeout() throws {
        guard let (redis, daemon) = try Self.start() else { return }
        defer { redis.stop() }
        kill(redis.pid, SIGSTOP)
        defer { kill(redis.pid, SIGCONT) }
        let started = Date()
        let view = try daemon.run(Self.step("redis.xadd", ["server": "main", "stream": "s", "fields": ["a": "b"]],
                                            ["timeout": "300ms"]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "timeout", "\(view)")
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
