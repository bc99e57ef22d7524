import JALMLayerKit
import JALMWire

extension NotifyMQHandler {
    /// Publishes one message with a `Nats-Msg-Id` header = the step's idempotency key. Plain: confirmed by
    /// PING/PONG (the server has taken it; core NATS delivers at most once to current subscribers).
    /// `jetstream: true`: published as a request and answered by the stream's PubAck, which says whether
    /// JetStream dropped it as a duplicate of the same Msg-Id within the stream's duplicate window.
    func natsPublish(_ raw: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "nats.publish", raw, allowed: ["server", "subject", "message", "headers", "jetstream"])
        let (name, server) = try input.server("server", in: settings.nats, kind: "nats")
        let subject = try input.string("subject", maxBytes: 4096)
        if let problem = NATSProtocol.subjectProblem(subject) { throw input.invalid("subject", problem) }
        guard let message = input.value("message") else { throw input.invalid("message", "is required") }
        let payload = Array((message.stringValue ?? JSONWriter.string(message, sortedKeys: true)).utf8)
        let headers = try Self.natsHeaders(input)
            + (context.idempotencyKey.map { [(NATSProtocol.messageIDHeader, $0)] } ?? [])
        let jetstream = try input.bool("jetstream", default: false)
        let publish = NATSClient.Publish(
            subject: subject, headers: headers, payload: payload,
            inbox: jetstream ? "_INBOX.jalm.\(context.callID).\(UInt64.random(in: 0...UInt64.max))" : nil)
        return try await io.run(deadline: context.deadline) { budget throws(CallFailure) in
            try NATSClient.publish(name: name, server: server, publish, budget: budget)
        }
    }

    /// Extra headers from the input; names are tokens, values single-line, `Nats-Msg-Id` is the layer's.
    static func natsHeaders(_ input: OpInput) throws(CallFailure) -> [(String, String)] {
        guard let value = input.value("headers") else { return [] }
        guard let object = value.objectValue else { throw input.invalid("headers", "must be an object of names to strings") }
        var out: [(String, String)] = []
        for name in object.keys.sorted() {
            guard let v = object[name]?.stringValue else { throw input.invalid("headers", "value of \"\(name)\" must be a string") }
            if name.isEmpty || name.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: ":") || $0 >= 0x7F }) {
                throw input.invalid("headers", "name \"\(name)\" must be printable ASCII without spaces or \":\"",
                                    reason: "header_injection")
            }
            if name.lowercased() == NATSProtocol.messageIDHeader.lowercased() {
                throw input.invalid("headers", "must not set \(NATSProtocol.messageIDHeader): the layer sets it to the step's idempotency key")
            }
            _ = try input.headerSafe("headers", v)
            out.append((name, v))
        }
        return out
    }
}
