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
        let key = context.idempotencyKey
        let guarded = key != nil
        var entry = fields
        if let key { entry.append((Self.idempotencyField, key)) }
        let flat = entry.flatMap { [Array($0.0.utf8), Array($0.1.utf8)] }
        let args: [[UInt8]]
        if guarded, let key {
            let marker = RedisScripts.markerKey(prefix: server.keyPrefix, kind: "xadd", target: stream, idempotencyKey: key)
            args = [Array("EVAL".utf8), Array(RedisScripts.xadd.utf8), Array("2".utf8), Array(marker.utf8), Array(stream.utf8),
                    Array(String(server.dedupeTTLSeconds).utf8), Array((maxlen.map(String.init) ?? "").utf8)] + flat
        } else {
            var command = ["XADD", stream].map { Array($0.utf8) }
            if let maxlen { command += ["MAXLEN", "~", String(maxlen)].map { Array($0.utf8) } }
            args = command + [Array("*".utf8)] + flat
        }
        let reply = try await io.run(deadline: context.deadline) { budget throws(CallFailure) in
            try RedisClient.run(name: name, server: server, command: args, budget: budget)
        }
        let (id, deduplicated) = try Self.scriptResult(reply, guarded: guarded, server: name)
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
        let key = context.idempotencyKey
        let payload: String
        if try input.bool("envelope", default: true) {
            payload = JSONWriter.string(["jalm_idempotency_key": key.map(JSONValue.string) ?? .null, "data": message],
                                        sortedKeys: true)
        } else {
            payload = message.stringValue ?? JSONWriter.string(message, sortedKeys: true)
        }
        let guarded = key != nil
        let args: [[UInt8]]
        if guarded, let key {
            let marker = RedisScripts.markerKey(prefix: server.keyPrefix, kind: "publish", target: channel, idempotencyKey: key)
            args = ["EVAL", RedisScripts.publish, "1", marker, String(server.dedupeTTLSeconds), channel, payload]
                .map { Array($0.utf8) }
        } else {
            args = ["PUBLISH", channel, payload].map { Array($0.utf8) }
        }
        let reply = try await io.run(deadline: context.deadline) { budget throws(CallFailure) in
            try RedisClient.run(name: name, server: server, command: args, budget: budget)
        }
        let (count, deduplicated) = try Self.scriptResult(reply, guarded: guarded, server: name)
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

    /// The (value, deduplicated) of a guard script's `{value, 0|1}` reply, or of a plain command's reply.
    static func scriptResult(_ reply: RESP.Reply, guarded: Bool, server: String) throws(CallFailure) -> (String, Bool) {
        if guarded, case .array(let items?) = reply, items.count == 2, let value = items[0].text,
           case .integer(let flag) = items[1] {
            return (value, flag == 1)
        }
        if !guarded {
            if let text = reply.text { return (text, false) }
            if case .integer(let n) = reply { return (String(n), false) }
        }
        throw CallFailure(.upstreamError, "redis server \"\(server)\" answered something unexpected: \(reply)",
                          details: ["reason": "protocol_error"])
    }
}
