import JALMWire

/// One publish to a named nats-server, run on a `BlockingIO` thread: connect, then CONNECT, the
/// publish and a PING pipelined in one write, then the server's INFO, any `-ERR`, and the PONG (or the
/// JetStream PubAck). A message over the INFO's `max_payload` is `resource_exhausted` as soon as the INFO
/// is read: the server answers such a message with `-ERR` and closes at once, and the close (a failed
/// send, a reset) can reach this client before the error does.
///
/// As with Redis, the pipelined write means a server that stalls after receiving it still handles the
/// message, so a retry sends the same `Nats-Msg-Id` again: JetStream drops that duplicate
/// (NotifyMQNATSTests prove it with a stopped server).
struct NATSClient {
    let connection: TCPConnection
    let label: String

    struct Publish {
        var subject: String
        var headers: [(String, String)]
        var payload: [UInt8]
        /// The inbox a JetStream PubAck comes back on; nil for a plain publish.
        var inbox: String?
    }

    static func publish(name: String, server: NATSServer, _ p: Publish, budget: IOBudget) throws(CallFailure) -> JSONValue {
        let label = "nats server \"\(name)\" (\(server.endpoint.display))"
        let client = NATSClient(connection: try TCPConnection.open(server.endpoint, label: label, budget: budget), label: label)
        var out = NATSProtocol.connect(server, name: name)
        if let inbox = p.inbox { out += Array("SUB \(inbox) 1\r\n".utf8) }
        out += NATSProtocol.hpub(subject: p.subject, replyTo: p.inbox, headers: p.headers, payload: p.payload)
        out += Array("PING\r\n".utf8)
        // The INFO arrived before anything was sent, so it can be read even when the send failed.
        var sendFailure: CallFailure?
        do { try client.connection.send(out) } catch { sendFailure = error }
        let maxPayload: Int?
        do { maxPayload = try client.readInfo() } catch { throw sendFailure ?? error }
        let size = NATSProtocol.headerBlock(p.headers).count + p.payload.count
        if let maxPayload, size > maxPayload {
            throw NATSReplies.failure("Maximum Payload Exceeded: \(size) bytes of headers and message over the "
                                      + "server's max_payload of \(maxPayload)", label: label)
        }
        if let sendFailure { throw sendFailure }
        guard let (block, body) = try client.awaitReplies(inbox: p.inbox) else {
            return ["subject": .string(p.subject), "confirmed": true]
        }
        return try NATSReplies.pubAck(block: block, body: body, subject: p.subject, label: label)
    }

    /// The server's greeting; refuses servers this client cannot talk to properly. Returns its
    /// `max_payload`, when it says one.
    private func readInfo() throws(CallFailure) -> Int? {
        guard case .info(let json) = NATSProtocol.parse(try connection.readLine()) else {
            throw CallFailure(.upstreamError, "\(label) did not greet with INFO: is it a NATS server?",
                              details: ["reason": "protocol_error"])
        }
        let info = (try? JSONParser.parse(Array(json.utf8))) ?? .object([:])
        if info["tls_required"]?.boolValue == true {
            throw CallFailure(.upstreamError, "\(label) requires TLS, which nats.publish does not speak",
                              retryable: false, details: ["reason": "tls_required"])
        }
        if info["headers"]?.boolValue != true {
            throw CallFailure(.upstreamError, "\(label) does not support message headers (nats-server 2.2 or later is needed)",
                              retryable: false, details: ["reason": "headers_unsupported"])
        }
        return info["max_payload"]?.intValue.map { Int($0) }
    }

    /// Reads until PONG and, when `inbox` is given, a message on it (JetStream may answer before or after
    /// the PONG); an `-ERR` first (bad credentials, a permissions violation) fails the call. Returns the
    /// inbox message's (header block, payload).
    private func awaitReplies(inbox: String?) throws(CallFailure) -> ([UInt8], [UInt8])? {
        var ponged = false
        var reply: ([UInt8], [UInt8])?
        while !ponged || (inbox != nil && reply == nil) {
            switch NATSProtocol.parse(try connection.readLine()) {
            case .pong: ponged = true
            case .ping: try connection.send(Array("PONG\r\n".utf8))
            case .error(let message): throw NATSReplies.failure(message, label: label)
            case .message(let subject, let headerBytes, let totalBytes):
                let body = try connection.readExactly(totalBytes + 2)
                if subject == inbox { reply = (Array(body[0..<headerBytes]), Array(body[headerBytes..<totalBytes])) }
            default: continue
            }
        }
        return reply
    }
}

/// What the server's answers mean for the step. Pure.
enum NATSReplies {
    static func failure(_ message: String, label: String) -> CallFailure {
        let lower = message.lowercased()
        if lower.contains("maximum payload") {
            return CallFailure(.resourceExhausted, "\(label) refused the message: \(message) (its max_payload)",
                               details: ["pointer": "/message", "reason": "max_payload", "server_error": .string(message)])
        }
        let auth = lower.contains("authorization") || lower.contains("authentication")
        let permission = lower.contains("permissions violation")
        return CallFailure(
            .upstreamError, "\(label) answered an error: \(message)", retryable: !(auth || permission),
            details: ["reason": .string(auth ? "auth_failed" : permission ? "permission_denied" : "server_error"),
                      "server_error": .string(message)])
    }

    /// The output of a JetStream publish from its reply: a PubAck, an error, or a 503 (no stream listens).
    static func pubAck(block: [UInt8], body: [UInt8], subject: String, label: String) throws(CallFailure) -> JSONValue {
        if NATSProtocol.status(ofHeaderBlock: block) == 503 {
            throw CallFailure(.notFound, "\(label): no JetStream stream listens on subject \"\(subject)\"",
                              details: ["reason": "no_responders", "pointer": "/subject"])
        }
        guard let ack = try? JSONParser.parse(body), ack.objectValue != nil else {
            throw CallFailure(.upstreamError, "\(label): the JetStream reply is not JSON",
                              details: ["reason": "protocol_error"])
        }
        if let error = ack["error"] {
            let description = error["description"]?.stringValue ?? JSONWriter.string(error)
            throw CallFailure(.upstreamError, "\(label): JetStream refused the message: \(description)",
                              details: ["reason": "server_error", "server_error": .string(description)])
        }
        guard let stream = ack["stream"]?.stringValue, let seq = ack["seq"]?.intValue else {
            throw CallFailure(.upstreamError, "\(label): the JetStream PubAck lacks stream or seq",
                              details: ["reason": "protocol_error"])
        }
        return ["subject": .string(subject), "confirmed": true,
                "jetstream": ["stream": .string(stream), "seq": .int(seq),
                              "duplicate": .bool(ack["duplicate"]?.boolValue ?? false)]]
    }
}
