#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMNet
import JALMWire

extension NotifyMQHandler {
    /// Headers the layer sets itself; a step's `headers` may not set them.
    static let webhookReserved: Set<String> = [
        "x-jalm-signature", "x-jalm-timestamp", "idempotency-key", "content-type", "content-length", "host",
        "transfer-encoding", "connection",
    ]

    /// POSTs `payload` as JSON to `url`, signed with the named key (`X-JALM-Signature`), with the step's
    /// idempotency key in `Idempotency-Key`. The URL goes through JALMNet's SSRF guard at connect time.
    /// A 2xx answer is success; anything else is `upstream_error`, retryable for 408, 429 and 5xx.
    func webhook(_ raw: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "webhook", raw, allowed: ["url", "payload", "signing_key", "headers"])
        let url = try input.string("url", maxBytes: 8192)
        _ = try input.headerSafe("url", url)
        guard let payload = input.value("payload") else { throw input.invalid("payload", "is required") }
        let keyName = try input.string("signing_key", maxBytes: 256)
        guard let secret = settings.webhook.signingKeys[keyName] else {
            let known = settings.webhook.signingKeys.keys.sorted()
            throw CallFailure(.notFound, "notify-mq.webhook: no signing key named \"\(keyName)\" in layers.notify-mq.webhook.signing_keys "
                                  + (known.isEmpty ? "(none is configured)" : "(configured: \(known.joined(separator: ", ")))"),
                              details: ["pointer": "/signing_key"])
        }
        let body = JSONWriter.bytes(payload, sortedKeys: true)
        let timestamp = Int64(time(nil))
        var headers = try Self.webhookHeaders(input)
        headers += [
            HeaderField("Content-Type", "application/json"),
            HeaderField(WebhookSignature.timestampHeader, String(timestamp)),
            HeaderField(WebhookSignature.header, WebhookSignature.value(secret: secret, timestamp: timestamp, body: body)),
            HeaderField("User-Agent", "jalm-notify-mq/\(jalmVersion)"),
        ]
        if let key = context.idempotencyKey { headers.append(HeaderField("Idempotency-Key", key)) }
        let left = max(1, IOBudget.millis(until: context.deadline))
        let request = NetRequest(
            url: url, protocols: .http, method: "POST", headers: headers, body: body,
            connectTimeout: .milliseconds(min(settings.webhook.connectTimeoutMs, left)), totalTimeout: .milliseconds(left),
            maxResponseBytes: settings.webhook.maxResponseBytes, maxRedirects: 0)
        let response = try await NetClient(policy: settings.webhook.policy).perform(request)
        let text = String(decoding: response.body, as: UTF8.self)
        guard (200..<300).contains(response.status) else {
            let retryable = response.status == 408 || response.status == 429 || response.status >= 500
            throw CallFailure(
                .upstreamError, "notify-mq.webhook: \(Redaction.url(url)) answered HTTP \(response.status)",
                retryable: retryable,
                details: ["reason": "http_status", "status": .int(Int64(response.status)), "body": .string(String(text.prefix(512)))])
        }
        return ["status": .int(Int64(response.status)), "body": .string(text), "signed_at": .int(timestamp)]
    }

    /// Extra headers from the input: token names, single-line values, none of the layer's own.
    static func webhookHeaders(_ input: OpInput) throws(CallFailure) -> [HeaderField] {
        guard let value = input.value("headers") else { return [] }
        guard let object = value.objectValue else { throw input.invalid("headers", "must be an object of names to strings") }
        var out: [HeaderField] = []
        for name in object.keys.sorted() {
            guard let v = object[name]?.stringValue else { throw input.invalid("headers", "value of \"\(name)\" must be a string") }
            let token = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
            if !token {
                throw input.invalid("headers", "name \"\(name)\" is not an HTTP header name", reason: "header_injection")
            }
            if webhookReserved.contains(name.lowercased()) {
                throw input.invalid("headers", "must not set \(name): the layer sets it")
            }
            _ = try input.headerSafe("headers", v)
            out.append(HeaderField(name, v))
        }
        return out
    }
}
