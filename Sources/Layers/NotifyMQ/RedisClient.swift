import JALMWire

/// One exchange with a named Redis server, run on a `BlockingIO` thread: connect, then `AUTH`, `SELECT`
/// and the command pipelined in one write, then their replies in order.
///
/// Pipelining matters beyond the saved round trips: once the write is done, the command is in the
/// server's hands even if the server stalls and this attempt times out — which is exactly the case the
/// dedupe marker exists for (a retry must then not add twice; NotifyMQRedisTests prove it with a stopped
/// server).
enum RedisClient {
    static func run(name: String, server: RedisServer, command: [[UInt8]], budget: IOBudget) throws(CallFailure) -> RESP.Reply {
        let label = "redis server \"\(name)\" (\(server.endpoint.display))"
        let connection = try TCPConnection.open(server.endpoint, label: label, budget: budget)
        var setup: [[String]] = []
        if let password = server.password {
            setup.append(server.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if server.db != 0 { setup.append(["SELECT", String(server.db)]) }
        try connection.send(setup.flatMap { RESP.command($0) } + RESP.command(command))
        for step in setup {
            if case .error(let message) = try readReply(connection, label: label) {
                let auth = step[0] == "AUTH"
                throw CallFailure(
                    .upstreamError, "\(label) refused \(step[0]): \(message)", retryable: false,
                    details: ["reason": .string(auth ? "auth_failed" : "select_failed"), "server_error": .string(message)])
            }
        }
        let reply = try readReply(connection, label: label)
        if case .error(let message) = reply {
            let auth = message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS") || message.hasPrefix("NOPERM")
            throw CallFailure(.upstreamError, "\(label) answered an error: \(message)", retryable: !auth,
                              details: ["reason": .string(auth ? "auth_failed" : "server_error"),
                                        "server_error": .string(message)])
        }
        return reply
    }

    private static func readReply(_ connection: TCPConnection, label: String) throws(CallFailure) -> RESP.Reply {
        var source = ConnectionSource(connection: connection)
        do {
            return try RESP.read(from: &source)
        } catch {
            switch error {
            case .source(let e as CallFailure): throw e
            case .source(let e): throw CallFailure(.upstreamError, "\(label): \(e)")
            case .malformed(let what):
                throw CallFailure(.upstreamError, "\(label) broke the protocol: \(what)",
                                  details: ["reason": "protocol_error"])
            }
        }
    }
}

/// A connection seen as the source `RESP.read` takes.
struct ConnectionSource: RESPSource {
    let connection: TCPConnection
    mutating func readLine() throws(RESPReadError) -> [UInt8] {
        do { return try connection.readLine() } catch { throw .source(error) }
    }
    mutating func readExactly(_ count: Int) throws(RESPReadError) -> [UInt8] {
        do { return try connection.readExactly(count) } catch { throw .source(error) }
    }
}
