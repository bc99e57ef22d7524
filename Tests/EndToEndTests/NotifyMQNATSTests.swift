#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// nats.publish through the real daemon (sandbox enforced) to a real nats-server with JetStream.
@Suite(.serialized) struct NotifyMQNATSTests {
    static func start(secrets: [String: String]? = nil) throws -> (NATSService, Daemon)? {
        guard Loopback.have(NATSService.binary) else {
            MissingTool.report(NATSService.binary, installedBy: "scripts/deps.d/notify-mq.apt")
            return nil
        }
        let nats = try NATSService()
        do {
            return (nats, try Daemon(config: TestServices.daemonConfig([nats]), secrets: secrets ?? nats.secrets))
        } catch {
            nats.stop()
            throw error
        }
    }

    static func step(_ input: JSONValue, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        NotifyMQRedisTests.step("nats.publish", input, extra)
    }

    @Test func aSubscriberReceivesThePayloadWithTheMsgIdHeader() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let sub = try nats.subscribe("orders.>")
        defer { sub.stop() }
        let view = try daemon.run(Self.step(["server": "main", "subject": "orders.created", "message": ["order": 42],
                                             "headers": ["Trace": "abc"]]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["n"] == ["subject": "orders.created", "confirmed": true])
        #expect(daemon.waitUntil(5) { sub.messages.count == 1 })
        let message = sub.messages.first ?? [:]
        #expect(message["subject"] as? String == "orders.created")
        #expect(message["payload"] as? String == #"{"order":42}"#)
        let headers = message["headers"] as? [String: String] ?? [:]
        #expect(headers["Nats-Msg-Id"] == "\(view["id"]?.stringValue ?? "")/n/1")
        #expect(headers["Trace"] == "abc")
    }

    @Test func jetStreamAcknowledgesWithStreamAndSequence() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let view = try daemon.run(Self.step(["server": "main", "subject": "events.a", "message": "x", "jetstream": true]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["n"]?["jetstream"] == ["stream": "EVENTS", "seq": 1, "duplicate": false], "\(view)")
        #expect(try nats.eventsCount() == 1)
    }

    /// The server stalls (SIGSTOP) after the first attempt wrote its publish; the attempt times out and the
    /// step is retried with the same Nats-Msg-Id. When the server resumes it takes both: core subscribers
    /// see two messages with one id, the JetStream stream stores one.
    @Test func aRetryWhileTheServerStalledIsStoredOnceByJetStream() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let sub = try nats.subscribe("events.>")
        defer { sub.stop() }
        let view = try NotifyMQRedisTests.runStalled(daemon, Self.step(
            ["server": "main", "subject": "events.retried", "message": "once", "jetstream": true],
            ["timeout": "1s", "retry": ["max": 1, "base": "50ms", "jitter": 0]]), server: nats.pid)
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 2, "\(view)")
        #expect(try nats.eventsCount() == 1)
        #expect(daemon.waitUntil(5) { sub.messages.count == 2 })
        let ids = Set(sub.messages.compactMap { ($0["headers"] as? [String: String])?["Nats-Msg-Id"] })
        #expect(ids == ["\(view["id"]?.stringValue ?? "")/n/1"])
    }

    @Test func aSubjectNoStreamCapturesIsNotFoundWithJetStream() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let view = try daemon.run(Self.step(["server": "main", "subject": "nowhere.x", "message": "x", "jetstream": true]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "not_found", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["details"]?["reason"] == "no_responders", "\(view)")
    }

    @Test func aWrongPasswordIsANonRetryableUpstreamError() throws {
        guard let (nats, daemon) = try Self.start(secrets: ["nats_password": "wrong"]) else { return }
        defer { nats.stop() }
        let view = try daemon.run(Self.step(["server": "main", "subject": "events.x", "message": "x"],
                                            ["retry": ["max": 2, "base": "10ms"]]))
        let error = view["steps"]?[0]?["error"]
        #expect(error?["code"] == "upstream_error", "\(view)")
        // Not retried although the step allows it: a refused credential does not heal by itself.
        #expect(view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(error?["details"]?["reason"] == "auth_failed", "\(view)")
        #expect(error?["message"]?.stringValue?.contains("Authorization Violation") == true, "\(view)")
    }

    @Test func aHeaderValueWithANewlineIsRefusedBeforeAnythingIsSent() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let sub = try nats.subscribe(">")
        defer { sub.stop() }
        let view = try daemon.run(Self.step(["server": "main", "subject": "events.x", "message": "x",
                                             "headers": ["X": "a\r\nNats-Msg-Id: forged"]]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "invalid_input", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["details"]?["reason"] == "header_injection", "\(view)")
        usleep(200_000)
        #expect(sub.messages.isEmpty)
    }

    /// The limit is the server's (`max_payload`, 1 MiB by default), counted over headers and payload: a
    /// payload that leaves room for the headers passes, 1 MiB + 1 byte is refused.
    @Test func aMessageOverTheServersMaxPayloadIsResourceExhausted() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        defer { nats.stop() }
        let atLimit = String(repeating: "x", count: 1_048_576)
        let ok = try daemon.run(Self.step(["server": "main", "subject": "events.big",
                                           "message": .string(String(atLimit.dropFirst(256)))]))
        #expect(ok["state"] == "completed", "\(ok["error"] ?? .null)")
        let over = try daemon.run(Self.step(["server": "main", "subject": "events.big", "message": .string(atLimit + "x")]))
        #expect(over["steps"]?[0]?["error"]?["code"] == "resource_exhausted", "\(over["error"] ?? .null)")
        #expect(over["steps"]?[0]?["error"]?["details"]?["reason"] == "max_payload", "\(over["error"] ?? .null)")
    }

    @Test func aServerThatIsDownIsARetryableUpstreamError() throws {
        guard let (nats, daemon) = try Self.start() else { return }
        nats.stop()
        let view = try daemon.run(Self.step(["server": "main", "subject": "events.x", "message": "x"]))
        #expect(view["steps"]?[0]?["error"]?["code"] == "upstream_error", "\(view)")
        #expect(view["steps"]?[0]?["error"]?["retryable"] == true, "\(view)")
    }
}
