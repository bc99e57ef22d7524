import JALMLayerKit
import JALMNet
import JALMWire

/// The io-http layer: every transfer goes through JALMNet (one libcurl multi handle for the process) and
/// its SSRF guard, with the operator's allowlist and CA bundles from `layers.io-http`.
///
/// Ops: `request` (any method, `side_effect: external`), `get` (GET/HEAD only, `side_effect: read`, so the
/// kernel may repeat it), `llm.chat` (an OpenAI-compatible chat completion, a preset over request).
/// Header values are never logged; error details show only redacted headers and URLs without user info
/// or query.
final class IOHTTPHandler: LayerHandler {
    let ops = ["request", "get", "llm.chat"]
    let settings: IOHTTPSettings
    let client: NetClient

    init(settings: IOHTTPSettings) {
        self.settings = settings
        self.client = NetClient(policy: settings.policy, caBundles: settings.caBundles)
    }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "request":
            let parsed = try RequestInput(OpInput(op: op, input, allowed: RequestInput.requestKeys),
                                          settings: settings, context: context)
            // A dry run checks the input and shows the request; nothing leaves the machine.
            if context.dryRun { return Self.preview(parsed.net) }
            return try await run(parsed, op: op)
        case "get":
            let parsed = try RequestInput(
                OpInput(op: op, input, allowed: RequestInput.commonKeys.union(["method"])),
                settings: settings, context: context, methods: ["GET", "HEAD"])
            return try await run(parsed, op: op)
        case "llm.chat":
            return try await LLMChat.run(input, handler: self, context: context)
        default:
            throw CallFailure(.notFound, "unknown op \"\(op)\" in io-http", details: ["op": .string(op)])
        }
    }

    /// What a dry run of `request` answers: the request that would be sent, credentials redacted.
    static func preview(_ r: NetRequest) -> JSONValue {
        ["dry_run": true, "sent": false,
         "request": ["method": .string(r.method), "url": .string(Redaction.url(r.url)),
                     "headers": ResponseOutput.headers(r.headers, redacted: true),
                     "body_bytes": .int(Int64(r.body?.count ?? 0))]]
    }

    /// Performs the transfer and applies the status policy.
    func run(_ request: RequestInput, op: String) async throws(CallFailure) -> JSONValue {
        let response = try await client.perform(request.net)
        if request.statusPolicy.fails(response.status) {
            throw Self.statusFailure(response, op: op)
        }
        return try ResponseOutput.output(response, mode: request.bodyMode, op: op)
    }

    /// upstream_error for a status the policy refuses: retryable for 5xx, 408 and 429, with the status,
    /// redacted headers and the first KiB of the body in the details.
    static func statusFailure(_ r: NetResponse, op: String) -> CallFailure {
        let retryable = r.status >= 500 || r.status == 429 || r.status == 408
        let excerpt = String(decoding: r.body.prefix(1024), as: UTF8.self)
        return CallFailure(
            .upstreamError, "io-http.\(op): \(Redaction.url(r.url)) answered HTTP \(r.status)", retryable: retryable,
            details: ["reason": "http_status", "status": .int(Int64(r.status)),
                      "headers": ResponseOutput.headers(r.headers, redacted: true),
                      "body_excerpt": .string(excerpt), "url": .string(Redaction.url(r.url))])
    }
}
