import JALMLayerKit
import JALMWire

extension NotifyMQHandler {
    /// The field of every stream entry that carries the step's idempotency key.
    static let idempotencyField = "jalm_idempotency_key"

    /// `XADD` one entry: the input's fields plus `jalm_idempotency_key`. With an idempotency key (every
    /// kernel call has one), entry and marker go in one script: a retry or a re-run after a crash with the
    /// same key within `dedupe_ttl_s` adds nothing and answers the first entry's ID. That is what lets the
    /// card say `idempotent: true`, so there is no switch to turn the guard off.
    func redisXAdd(_ raw: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "redis.xadd", raw, allowed: ["server", "stream", "fields", "maxlen"])
        let (name, server) = try input.server("server", in: settings.redis, kind: "redis")
        let stream = try input.string("stream", maxBytes: 1024)
        if stream.isEmpty { throw input.invalid("stream", "must not be empty") }
        let fields = try Self.streamFields(input)
        let maxlen = try input.optionalInt("maxlen", in: 1...Int(Int32.max))
        let key = try Self.requireKey(context, op: "redis.xadd")
        let flat = (fields + [(Self.idempotencyField, key)]).flatMap { [Array($0.0.utf8), Array($0.1.utf8)] }
        let marker = RedisScripts.markerKey(prefix: server.keyPrefix, kind: "xadd", target: stream, idempotencyKey: key)
        let args = [Array("EVAL".utf8), Array(RedisScripts.xadd.utf8), Array("2".utf8), Array(marker.utf8), Array(stream.utf8),
                    Array(String(server.dedupeTTLSeconds).utf8), Array((maxlen.map(String.init) ?? "").utf8)] + flat
        let reply = try await io.run(deadline: context.deadline) { budget throws(CallFailure) in
            try RedisClient.run(name: name, server: server, command: args, budget: budget)
        }
        let (id, deduplicated) = try Self.scriptResult(reply, server: name)
        return ["stream": .string(stream), "id": .string(id), "deduplicated": .bool(deduplicated)]
    }

    /// `PUBLISH` one message. By default the message is an envelope `{"jalm_idempotency_key": K, "data": M}`
    /// so subscribers can deduplicate; `envelope: false` sends `message` as it is. As for XADD, a retry with
    /// the same key within `dedupe_ttl_s` publishes nothing and answers the first receiver count.
    func redisPublish(_ raw: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "redis.publish", raw, allowed: ["server", "channel", "message", "envelope"])
        let (name, server) = try input.server("server", in: settings.redis, kind: "redis")
        let channel = try input.string("channel", maxBytes: 1024)
        if channel.isEmpty { throw input.invalid("channel", "must not be empty") }
        guard let message = input.value("message") else { throw input.invalid("message", "is required") }
        let key = try Self.requireKey(context, op: "redis.publish")
        let payload: String
        if try input.bool("envelope", default: true) {
            payload = JSONWriter.string(["jalm_idempotency_key": .string(key), "data": message], sortedKeys: true)
        } else {
            payload = message.stringValue ?? JSONWriter.string(message, sortedKeys: true)
        }
        let marker = RedisScripts.markerKey(prefix: server.keyPrefix, kind: "publish", target: channel, idempotencyKey: key)
        let args = ["EVAL", RedisScripts.publish, "1", marker, String(server.dedupeTTLSeconds), channel, payload]
            .map { Array($0.utf8) }
        let reply = try await io.run(deadline: context.deadline) { budget throws(CallFailure) in
            try RedisClient.run(name: name, server: server, command: args, budget: budget)
        }
        let (count, deduplicated) = try Self.scriptResult(reply, server: name)
        guard let receivers = Int64(count) else {
            throw CallFailure(.upstreamError, "redis server \"\(name)\" answered PUBLISH with \"\(count)\"")
        }
        return ["channel": .string(channel), "receivers": .int(receivers), "deduplicated": .bool(deduplicated)]
    }

    /// `fields` as ordered (name, text) pairs: strings as they are, other JSON values as JSON text.
    static func streamFields(_ input: OpInput) throws(CallFailure) -> [(String, String)] {
        guard let value = input.value("fields") else { throw input.invalid("fields", "is required") }
        guard let object = value.objectValue, !object.isEmpty else {
            throw input.invalid("fields", "must be a non-empty object of field names to values")
        }
        if object[idempotencyField] != nil {
            throw input.invalid("fields", "must not set \"\(idempotencyField)\": the layer adds it from the step's idempotency key")
        }
        return object.keys.sorted().map { k in
            let v = object[k]!
            return (k, v.stringValue ?? JSONWriter.string(v, sortedKeys: true))
        }
    }

    /// The step's idempotency key. The kernel gives one to every call of these ops (external side effect);
    /// without it the once-only guarantee their cards declare could not hold, so the call is refused.
    static func requireKey(_ context: CallContext, op: String) throws(CallFailure) -> String {
        guard let key = context.idempotencyKey else {
            throw CallFailure(.internal, "notify-mq.\(op): the call carries no idempotency key, so it cannot be sent once only")
        }
        return key
    }

    /// The (value, deduplicated) of a guard script's `{value, 0|1}` reply.
    static func scriptResult(_ reply: RESP.Reply, server: String) throws(CallFailure) -> (String, Bool) {
        if case .array(let items?) = reply, items.count == 2, let value = items[0].text, case .integer(let flag) = items[1] {
            return (value, flag == 1)
        }
        throw CallFailure(.upstreamError, "redis server \"\(server)\" answered something unexpected: \(reply)",
                          details: ["reason": "protocol_error"])
    }
}
