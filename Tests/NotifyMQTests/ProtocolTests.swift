import Testing
import JALMLayerKit
import JALMWire
@testable import jalm_layer_notify_mq

/// RESP and NATS framing, and what the Redis and NATS inputs refuse. Pure.
struct ProtocolTests {
    struct Bytes: RESPSource {
        var data: [UInt8]
        var at = 0
        init(_ s: String) { data = Array(s.utf8) }
        mutating func readLine() throws(RESPReadError) -> [UInt8] {
            guard let end = (at..<max(at, data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else {
                throw .malformed("no line")
            }
            defer { at = end + 2 }
            return Array(data[at..<end])
        }
        mutating func readExactly(_ count: Int) throws(RESPReadError) -> [UInt8] {
            guard at + count <= data.count else { throw .malformed("short") }
            defer { at += count }
            return Array(data[at..<at + count])
        }
    }

    @Test func commandsAreBulkStringsSoNoArgumentCanBreakTheFraming() {
        #expect(RESP.command(["SET", "k\r\nFLUSHALL", "v"]) == Array("*3\r\n$3\r\nSET\r\n$11\r\nk\r\nFLUSHALL\r\n$1\r\nv\r\n".utf8))
    }

    @Test func repliesParse() throws {
        var s = Bytes("*2\r\n$15\r\n1700000000000-0\r\n:1\r\n")
        #expect(try RESP.read(from: &s) == .array([.bulk(Array("1700000000000-0".utf8)), .integer(1)]))
        var e = Bytes("-WRONGPASS invalid username-password pair\r\n")
        #expect(try RESP.read(from: &e) == .error("WRONGPASS invalid username-password pair"))
    }

    @Test func nestingBeyondTheLimitIsMalformed() {
        var s = Bytes(String(repeating: "*1\r\n", count: 20) + ":1\r\n")
        #expect(throws: RESPReadError.self) { try RESP.read(from: &s) }
    }

    @Test(arguments: [("orders.created", nil), ("a.*", "wildcards"), ("a b", "spaces"), ("a..b", "empty token"),
                      ("", "empty"), ("a\r\nPUB x 1", "spaces")])
    func subjects(_ subject: String, _ problem: String?) {
        let found = NATSProtocol.subjectProblem(subject)
        if let problem { #expect(found?.contains(problem) == true, "\(subject): \(found ?? "accepted")") } else { #expect(found == nil) }
    }

    @Test func hpubCountsHeaderAndTotalBytes() {
        let frame = String(decoding: NATSProtocol.hpub(subject: "s", replyTo: nil, headers: [("Nats-Msg-Id", "k")],
                                                       payload: Array("hi".utf8)), as: UTF8.self)
        let block = "NATS/1.0\r\nNats-Msg-Id: k\r\n\r\n"
        #expect(frame == "HPUB s \(block.utf8.count) \(block.utf8.count + 2)\r\n\(block)hi\r\n")
    }

    @Test func natsErrorsMapToCodes() {
        #expect(NATSReplies.failure("Maximum Payload Violation", label: "n").code == .resourceExhausted)
        let auth = NATSReplies.failure("Authorization Violation", label: "n")
        #expect(auth.code == .upstreamError && !auth.retryable)
        #expect(NATSReplies.failure("Slow Consumer", label: "n").retryable)
    }

    @Test func theGuardScriptsMarkerKeyHashTagsTheStream() {
        #expect(RedisScripts.markerKey(prefix: "jalm:idempotency:", kind: "xadd", target: "orders", idempotencyKey: "e/s/1")
                == "jalm:idempotency:xadd:{orders}:e/s/1")
    }

    /// Without the kernel's key the once-only guard cannot work: the call is refused before any connection.
    @Test func aRedisCallWithoutAnIdempotencyKeyIsRefused() async throws {
        let handler = try NotifyMQHandler(config: ["redis": ["main": ["host": "127.0.0.1", "port": 1]]])
        let noKey = CallContext(callID: 1, deadline: .now + .seconds(5))
        for (op, input) in [("redis.xadd", ["server": "main", "stream": "s", "fields": ["a": "b"]] as JSONValue),
                            ("redis.publish", ["server": "main", "channel": "c", "message": "m"])] {
            do {
                _ = try await handler.handle(op: op, input: input, context: noKey)
                Issue.record("\(op) ran without a key")
            } catch {
                #expect(error.code == .internal && error.message.contains("no idempotency key"), "\(error)")
            }
        }
    }

    @Test func settingsNameTheKeyThatIsWrong() {
        #expect(throws: SettingsError.self) { try NotifySettings.read(["redis": ["main": ["port": 70000]]]) }
        do {
            _ = try NotifySettings.read(["smtp": ["m": ["url": "http://x"]]])
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("layers.notify-mq.smtp.m.url"))
        }
    }

    @Test(arguments: [
        (["redis": ["main": ["pasword": "x"]]], "redis.main.pasword"),
        (["nats": ["main": ["tls": true]]], "nats.main.tls"),
        (["webhok": ["signing_keys": [:]]], "webhok"),
        (["webhook": ["signing_key": [:]]], "webhook.signing_key"),
        (["smtp": ["m": ["url": "smtp://127.0.0.1", "user": "a"]]], "smtp.m.user"),
    ] as [(JSONValue, String)])
    func aMisspeltSettingStopsThePluginNamingIt(_ config: JSONValue, _ path: String) {
        do {
            _ = try NotifySettings.read(config)
            Issue.record("accepted \(config)")
        } catch {
            #expect(error.description.contains("layers.notify-mq.\(path) is not a known key"), "\(error)")
        }
    }
}
