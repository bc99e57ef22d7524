import JALMClient
import JALMWire

/// Everything that ends the CLI unsuccessfully, with its exit code: 1 for a refused or failed request,
/// 2 for a usage error, 3 when jalmd cannot be reached.
enum CLIFailure: Error {
    /// jalmd is not there (no socket, nobody listening, host unknown).
    case unreachable(endpoint: Endpoint, reason: String)
    /// jalmd answered with an RFC 9457 problem (or some other error status).
    case problem(code: String, detail: String, pointer: String?)
    /// The exchange failed after connecting: timeout, garbage, early close.
    case transport(String)
    /// The connection broke before the answer was read (jalmd stopped or restarted meanwhile).
    case interrupted(String)
    /// The command line is wrong in a way only known at run time (a file that cannot be read).
    case usage(String)
    /// The result is already printed; only the exit status is left to say (a failed execution).
    case silent(Int32)

    var exitCode: Int32 {
        switch self {
        case .unreachable: 3
        case .usage: 2
        case .problem, .transport, .interrupted: 1
        case .silent(let code): code
        }
    }

    /// The lines for stderr, or nil when there is nothing to add.
    var message: String? {
        switch self {
        case .unreachable(let endpoint, let reason):
            let hint = if case .unix = endpoint { "or pass --socket" } else { "or check --url" }
            return "error: cannot reach jalmd at \(endpoint): \(reason) (is it running? start it with `jalmd`, \(hint))"
        case .problem(let code, let detail, let pointer):
            return "error: \(code): \(detail)" + (pointer.map { "\n  at \($0)" } ?? "")
        case .transport(let text), .interrupted(let text):
            return "error: \(text)"
        case .usage(let text):
            return "error: \(text)"
        case .silent:
            return nil
        }
    }
}

extension CLIFailure {
    init(_ error: HTTPClientError) {
        switch error {
        case .unreachable(let endpoint, let reason):
            self = .unreachable(endpoint: endpoint, reason: reason)
        case .timedOut(let endpoint, let seconds):
            self = .transport("timeout: no answer from jalmd at \(endpoint) within \(Format.seconds(seconds))")
        case .malformed(let endpoint, let reason):
            self = .interrupted("protocol_error: bad answer from \(endpoint): \(reason)")
        case .tooLarge(let endpoint):
            self = .transport("resource_exhausted: the answer from \(endpoint) is larger than "
                + "\(UnixHTTPClient.maxResponseBytes >> 20) MiB")
        case .io(let endpoint, let call, let reason):
            self = .interrupted("\(call) on \(endpoint) failed: \(reason)")
        }
    }

    /// Worth sending again (with the same idempotency key): jalmd was not there, the connection broke, or
    /// it is shutting down.
    var isTransient: Bool {
        switch self {
        case .unreachable, .interrupted: true
        case .problem(let code, _, _): code == "layer_unavailable"
        default: false
        }
    }

    /// An error answer: an RFC 9457 problem document when the daemon sent one, the raw text otherwise.
    init(status: Int, body: [UInt8]) {
        if let problem = try? JSONParser.parse(body), problem.objectValue != nil {
            let code = problem["code"]?.stringValue ?? problem["title"]?.stringValue ?? "HTTP \(status)"
            let detail = problem["detail"]?.stringValue ?? problem["title"]?.stringValue ?? "HTTP \(status)"
            self = .problem(code: code, detail: detail, pointer: problem["pointer"]?.stringValue)
        } else {
            let text = String(decoding: body.prefix(500), as: UTF8.self).trimmed
            self = .problem(code: "HTTP \(status)", detail: text.isEmpty ? "(no body)" : text, pointer: nil)
        }
    }
}
