import JALMClient
import JALMWire

/// The daemon's HTTP API as the commands use it: JSON in, JSON out, problems turned into `CLIFailure`.
struct JalmAPI: Sendable {
    var client: UnixHTTPClient

    /// An answer whose status the caller judges itself (`/health` answers 503 with a body worth showing).
    struct Answer {
        var status: Int
        var json: JSONValue
        /// The submission was made before with the same key: this is that execution (`Idempotent-Replayed`).
        var replayed = false
    }

    func get(_ path: String) throws(CLIFailure) -> JSONValue {
        try expectSuccess(raw("GET", path))
    }

    func post(_ path: String, body: [UInt8] = [], contentType: String? = nil) throws(CLIFailure) -> JSONValue {
        try expectSuccess(raw("POST", path, body: body, contentType: contentType))
    }

    /// Submits a capsule with an idempotency key, and sends it again with the same key when the connection
    /// broke before the answer or jalmd was shutting down (and, after that, while it cannot be reached: it is
    /// restarting): the daemon answers a repeated key with the execution it already made, so a retry never
    /// runs a capsule twice. A daemon that cannot be reached at the first try is reported at once. Gives up
    /// after `retryFor` seconds.
    func submit(_ path: String, body: [UInt8], contentType: String, key: String?, retryFor: Double = 60)
        throws(CLIFailure) -> Answer
    {
        let start = Format.nowMs()
        var pause = 0.2
        var reachedBefore = false
        while true {
            do throws(CLIFailure) {
                // Without a key (a dry run), a repeat makes another dry run: harmless, as nothing is performed.
                let answer = try raw("POST", path, body: body, contentType: contentType,
                                     headers: key.map { [("Idempotency-Key", $0)] } ?? [])
                guard (200..<300).contains(answer.status) else {
                    throw CLIFailure(status: answer.status, body: JSONWriter.bytes(answer.json))
                }
                return answer
            } catch {
                if case .unreachable = error, !reachedBefore { throw error }
                reachedBefore = true
                guard error.isTransient, Double(Format.nowMs() - start) / 1000 + pause < retryFor else { throw error }
                Waiter.sleep(seconds: pause)
                pause = min(pause * 2, 2)
            }
        }
    }

    /// Sends one request; any status comes back, but the body must be JSON unless it is an error.
    func raw(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil,
             headers: [(name: String, value: String)] = []) throws(CLIFailure) -> Answer
    {
        let response: HTTPResponse
        do {
            response = try client.send(method: method, path: path, body: body, contentType: contentType, headers: headers)
        } catch {
            throw CLIFailure(error)
        }
        if let json = try? JSONParser.parse(response.body) {
            return Answer(status: response.status, json: json,
                          replayed: response.header("Idempotent-Replayed") == "true")
        }
        if response.status >= 400 { throw CLIFailure(status: response.status, body: response.body) }
        throw .transport("protocol_error: \(method) \(path) answered \(response.status) with a body that is not JSON")
    }

    private func expectSuccess(_ answer: Answer) throws(CLIFailure) -> JSONValue {
        guard (200..<300).contains(answer.status) else {
            throw CLIFailure(status: answer.status, body: JSONWriter.bytes(answer.json))
        }
        return answer.json
    }
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters pass).
func escape(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}
