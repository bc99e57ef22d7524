import JALMLayerKit
import JALMNet
import JALMWire

/// Which statuses end the step with an error instead of an output.
enum StatusPolicy: String {
    /// 5xx and 429 fail with upstream_error (retryable, so a step's retry rule can try again); every
    /// other status, 4xx included, is an output the capsule can branch on. The default.
    case server
    /// Every status from 400 fails: 5xx and 429 retryable, other 4xx not.
    case any
    /// No status fails; the capsule reads `status`.
    case never

    func fails(_ status: Int) -> Bool {
        switch self {
        case .server: status >= 500 || status == 429
        case .any: status >= 400
        case .never: false
        }
    }
}

/// How the response body is carried in the output.
enum BodyMode: String {
    /// JSON when the content type says JSON, text for text types (and for untyped UTF-8), base64 otherwise.
    case auto, json, text, base64
}

/// A `request` (or `get`) step's input, read and checked into a transfer description.
struct RequestInput {
    var net: NetRequest
    var statusPolicy: StatusPolicy
    var bodyMode: BodyMode

    static let bodyKeys = ["json", "text", "form", "base64"]
    static let commonKeys: Set = ["url", "headers", "query", "connect_timeout_ms", "timeout_ms", "max_response_bytes",
                                  "max_redirects", "fail_on_status", "response_body"]
    static let requestKeys = commonKeys.union(["method"]).union(bodyKeys)

    init(_ input: OpInput, settings: IOHTTPSettings, context: CallContext, methods: Set<String>? = nil) throws(CallFailure) {
        let method = try input.string("method", default: "GET").uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") }), method.count <= 16 else {
            throw input.invalid("method", "must be an HTTP method name (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")
        }
        if let methods, !methods.contains(method) {
            throw input.invalid("method", "must be one of \(methods.sorted().joined(separator: ", ")) for \(input.op)")
        }
        var url = try input.string("url")
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else {
            throw CallFailure(.invalidInput, "io-http.\(input.op): \"url\" must start with http:// or https://",
                              details: ["pointer": "/url", "reason": "protocol_not_allowed"])
        }
        if let query = try input.object("query") {
            url += (url.contains("?") ? "&" : "?") + (try Self.encodedPairs(query, key: "query", input: input))
        }
        var headers: [HeaderField] = []
        for (name, value) in (try input.object("headers") ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard Self.isToken(name) else { throw input.invalid("headers", "has an invalid header name \"\(name)\"") }
            guard let v = value.stringValue, !v.contains("\r"), !v.contains("\n") else {
                throw input.invalid("headers", "value of \"\(name)\" must be a string without line breaks")
            }
            headers.append(HeaderField(name, v))
        }
        let (body, contentType) = try Self.body(input)
        if let contentType, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(HeaderField("Content-Type", contentType))
        }
        // Non-repeatable steps carry the kernel's idempotency key, so a receiver that honours the header
        // does not apply a retried request twice. A key the capsule sets itself wins.
        if let key = context.idempotencyKey, !["GET", "HEAD", "OPTIONS"].contains(method),
           !headers.contains(where: { $0.name.lowercased() == "idempotency-key" }) {
            headers.append(HeaderField("Idempotency-Key", key))
        }
        let maxBytes = try input.int("max_response_bytes",
                                     default: min(IOHTTPSettings.defaultMaxResponseBytes, settings.maxResponseBytesLimit),
                                     in: 0...settings.maxResponseBytesLimit)
        net = NetRequest(
            url: url, protocols: .http, method: method, headers: headers, body: body,
            connectTimeout: .milliseconds(try input.int("connect_timeout_ms", default: 10_000, in: 1...settings.maxTimeoutMs)),
            totalTimeout: .milliseconds(try input.int("timeout_ms", default: 30_000, in: 1...settings.maxTimeoutMs)),
            maxResponseBytes: maxBytes,
            maxRedirects: try input.int("max_redirects", default: 5, in: 0...settings.maxRedirectsLimit))
        guard let policy = StatusPolicy(rawValue: try input.string("fail_on_status", default: "server")) else {
            throw input.invalid("fail_on_status", "must be \"server\", \"any\" or \"never\"")
        }
        statusPolicy = policy
        guard let mode = BodyMode(rawValue: try input.string("response_body", default: "auto")) else {
            throw input.invalid("response_body", "must be \"auto\", \"json\", \"text\" or \"base64\"")
        }
        bodyMode = mode
    }

    /// At most one of `json`, `text`, `form`, `base64`; each brings its default content type.
    static func body(_ input: OpInput) throws(CallFailure) -> ([UInt8]?, String?) {
        let given = bodyKeys.filter { input.has($0) }
        guard given.count <= 1 else {
            throw input.invalid(given[1], "cannot be given with \"\(given[0])\" (one body per request)")
        }
        switch given.first {
        case "json":
            return (JSONWriter.bytes(input.fields["json"]!), "application/json")
        case "text":
            return (Array(try input.string("text").utf8), "text/plain; charset=utf-8")
        case "form":
            return (Array(try encodedPairs(try input.object("form") ?? [:], key: "form", input: input).utf8),
                    "application/x-www-form-urlencoded")
        case "base64":
            guard let bytes = Base64.decode(try input.string("base64")) else {
                throw input.invalid("base64", "is not valid base64")
            }
            return (bytes, "application/octet-stream")
        default:
            return (nil, nil)
        }
    }

    /// `a=1&b=x%20y`, keys sorted for a stable request; an array value repeats its key.
    static func encodedPairs(_ o: [String: JSONValue], key: String, input: OpInput) throws(CallFailure) -> String {
        var pairs: [String] = []
        for (name, value) in o.sorted(by: { $0.key < $1.key }) {
            let values = value.arrayValue ?? [value]
            for v in values { pairs.append(percentEncode(name) + "=" + percentEncode(try input.scalarText(key, name, v))) }
        }
        return pairs.joined(separator: "&")
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// RFC 9110 token characters.
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
