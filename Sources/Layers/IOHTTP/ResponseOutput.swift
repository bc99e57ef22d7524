import JALMNet
import JALMWire

/// A response as a step output: `status`, `headers`, `body` (+ `body_encoding`), `url`, and `meta` with
/// the timing breakdown, the address connected and the redirects followed.
enum ResponseOutput {
    static func output(_ r: NetResponse, mode: BodyMode, op: String) throws(CallFailure) -> JSONValue {
        let (body, encoding) = try decode(r.body, contentType: r.header("content-type"), mode: mode, op: op)
        return [
            "status": .int(Int64(r.status)),
            "headers": headers(r.headers),
            "body": body,
            "body_encoding": .string(encoding),
            "url": .string(Redaction.url(r.url)),
            "meta": meta(r),
        ]
    }

    /// Header names lower-cased; repeated headers joined with ", " (Set-Cookie with "\n", as it may hold commas).
    static func headers(_ fields: [HeaderField], redacted: Bool = false) -> JSONValue {
        var o: [String: String] = [:]
        for f in fields {
            let field = redacted ? Redaction.header(f) : f
            let name = field.name.lowercased()
            if let old = o[name] {
                o[name] = old + (name == "set-cookie" ? "\n" : ", ") + field.value
            } else {
                o[name] = field.value
            }
        }
        return .object(o.mapValues { .string($0) })
    }

    static func meta(_ r: NetResponse) -> JSONValue {
        func ms(_ v: Double) -> JSONValue { .double((v * 1000).rounded() / 1000) }
        return [
            "timing": [
                "dns_ms": ms(r.timing.dnsMs), "connect_ms": ms(r.timing.connectMs), "tls_ms": ms(r.timing.tlsMs),
                "first_byte_ms": ms(r.timing.firstByteMs), "total_ms": ms(r.timing.totalMs),
            ],
            "remote_address": r.remoteAddress.map { .string($0) } ?? .null,
            "redirects": .array(r.redirects.map { .string(Redaction.url($0)) }),
            "bytes": .int(Int64(r.body.count)),
        ]
    }

    static func decode(_ bytes: [UInt8], contentType: String?, mode: BodyMode, op: String) throws(CallFailure)
        -> (JSONValue, String)
    {
        let type = (contentType ?? "").lowercased().split(separator: ";").first.map { String($0).trimmed } ?? ""
        let text = String(validating: bytes, as: UTF8.self)
        switch mode {
        case .base64:
            return (.string(Base64.encode(bytes)), "base64")
        case .text:
            guard let text else {
                throw CallFailure(.invalidInput, "io-http.\(op): the response body is not UTF-8; use response_body: base64",
                                  details: ["pointer": "/response_body", "reason": "body_not_text"])
            }
            return (.string(text), "text")
        case .json:
            guard let value = try? JSONParser.parse(bytes) else {
                throw CallFailure(.upstreamError, "io-http.\(op): the response body is not JSON", retryable: false,
                                  details: ["reason": "body_not_json", "content_type": .string(type)])
            }
            return (value, "json")
        case .auto:
            if bytes.isEmpty { return (.string(""), "text") }
            if type == "application/json" || type.hasSuffix("+json"), let value = try? JSONParser.parse(bytes) {
                return (value, "json")
            }
            if let text, type.isEmpty || isTextual(type) { return (.string(text), "text") }
            return (.string(Base64.encode(bytes)), "base64")
        }
    }

    static func isTextual(_ type: String) -> Bool {
        type.hasPrefix("text/") || type.hasSuffix("+xml") || type.hasSuffix("json")
            || ["application/xml", "application/javascript", "application/x-www-form-urlencoded",
                "application/yaml", "application/x-yaml", "image/svg+xml"].contains(type)
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
