import CCurl
import JALMWire

/// The public face of JALMNet: `perform(request)` runs a transfer on the process's shared multi handle
/// under an SSRF guard, following redirects one hop at a time.
///
/// Errors are `CallFailure`s a layer can return as they are:
/// - a refused destination: `invalid_input`, `details.reason = forbidden_destination`, with the address;
/// - the body limit: `resource_exhausted`, `details.reason = max_response_bytes`;
/// - connect or total timeout: `timeout`, `details.reason = connect_timeout | total_timeout`;
/// - TLS verification: `upstream_error` (not retryable), `details.reason = tls_verification_failed`;
/// - refused connections, resolver failures, resets: `upstream_error` (retryable);
/// - a scheme outside the family, a malformed URL: `invalid_input`;
/// - cancellation of the calling task: `cancelled`.
public struct NetClient: Sendable {
    public var policy: AddressPolicy
    /// PEM CA bundles by host name (lower-case): that host's certificates are verified against this bundle
    /// instead of the system's. Verification itself can never be turned off.
    public var caBundles: [String: [UInt8]]

    public init(policy: AddressPolicy, caBundles: [String: [UInt8]] = [:]) {
        self.policy = policy
        self.caBundles = caBundles
    }

    public func perform(_ request: NetRequest) async throws(CallFailure) -> NetResponse {
        let deadline = ContinuousClock.now.advanced(by: request.totalTimeout)
        var hop = request
        var redirects: [String] = []
        var timing = NetTiming()
        while true {
            let (scheme, host) = try Self.parse(hop.url)
            guard hop.protocols.rawValue.split(separator: ",").contains(Substring(scheme)) else {
                throw CallFailure(
                    .invalidInput, "\(Redaction.url(hop.url)): scheme \"\(scheme)\" not allowed (allowed: \(hop.protocols.rawValue))",
                    details: ["reason": "protocol_not_allowed", "pointer": "/url", "url": .string(Redaction.url(hop.url))])
            }
            let transfer = try Transfer(request: hop, policy: policy, host: host,
                                        caBundle: caBundles[host.lowercased()], deadline: deadline)
            let result = try await CurlMulti.shared.run(transfer).get()
            timing.dnsMs += result.timing.dnsMs
            timing.connectMs += result.timing.connectMs
            timing.tlsMs += result.timing.tlsMs
            timing.firstByteMs += result.timing.firstByteMs
            timing.totalMs += result.timing.totalMs
            try Self.check(result, request: hop, host: host)
            if request.protocols == .http, [301, 302, 303, 307, 308].contains(result.status), request.maxRedirects > 0,
               let next = result.redirectURL {
                guard redirects.count < request.maxRedirects else {
                    throw CallFailure(
                        .upstreamError, "more than \(request.maxRedirects) redirects (max_redirects)", retryable: false,
                        details: ["reason": "too_many_redirects", "limit": .int(Int64(request.maxRedirects)),
                                  "redirects": .array(redirects.map { .string(Redaction.url($0)) })])
                }
                redirects.append(next)
                hop = Self.redirected(hop, to: next, status: result.status, fromHost: host)
                continue
            }
            return NetResponse(status: result.status, headers: result.headers, body: result.body,
                               url: result.effectiveURL, redirects: redirects, remoteAddress: result.remoteAddress,
                               timing: timing)
        }
    }

    /// The request for the next hop: 303 (and 301/302 after POST) become GET without a body, as browsers
    /// and curl do; credentials are not carried to another origin.
    static func redirected(_ request: NetRequest, to url: String, status: Int, fromHost: String) -> NetRequest {
        var next = request
        next.url = url
        let method = request.method.uppercased()
        if status == 303 && method != "HEAD" || (status == 301 || status == 302) && method == "POST" {
            next.method = "GET"
            next.body = nil
            next.headers.removeAll { ["content-type", "content-length"].contains($0.name.lowercased()) }
        }
        if (try? parse(url))?.host.lowercased() != fromHost.lowercased() {
            next.headers.removeAll { Redaction.isSensitive($0.name) }
            next.username = nil
            next.password = nil
        }
        return next
    }

    /// The URL's scheme and host as libcurl parses them (so the allowlist and the CA map see what curl uses).
    static func parse(_ url: String) throws(CallFailure) -> (scheme: String, host: String) {
        guard let u = curl_url() else { throw CallFailure(.internal, "curl_url failed") }
        defer { curl_url_cleanup(u) }
        let rc = curl_url_set(u, CURLUPART_URL, url, 0)
        guard rc == CURLUE_OK else {
            throw CallFailure(.invalidInput, "\"url\" is not a valid URL: \(String(cString: curl_url_strerror(rc)))",
                              details: ["pointer": "/url", "reason": "invalid_url"])
        }
        func part(_ which: CURLUPart) -> String? {
            var p: UnsafeMutablePointer<CChar>?
            guard curl_url_get(u, which, &p, 0) == CURLUE_OK, let p else { return nil }
            defer { curl_free(p) }
            return String(cString: p)
        }
        let scheme = part(CURLUPART_SCHEME)?.lowercased() ?? ""
        guard let host = part(CURLUPART_HOST), !host.isEmpty else {
            if !["http", "https", "smtp", "smtps"].contains(scheme) { return (scheme, "") }
            throw CallFailure(.invalidInput, "\"url\" has no host", details: ["pointer": "/url", "reason": "invalid_url"])
        }
        return (scheme, host)
    }

    /// Turns a hop's curl outcome into the error the caller should see, or nothing when it succeeded.
    static func check(_ r: HopResult, request: NetRequest, host: String) throws(CallFailure) {
        if r.code == CURLE_OK { return }
        let url = Redaction.url(request.url)
        if !r.refused.isEmpty && r.remoteAddress == nil || !r.refused.isEmpty && r.code == CURLE_COULDNT_CONNECT {
            let first = r.refused[0]
            var details: [String: JSONValue] = [
                "reason": "forbidden_destination", "address": .string(first.address.description),
                "range": .string(first.verdict.reason), "host": .string(host), "url": .string(url),
                "connected": false,
            ]
            if r.refused.count > 1 {
                details["addresses"] = .array(r.refused.map { .string($0.address.description) })
            }
            throw CallFailure(
                .invalidInput,
                "destination \(first.address) (\(first.verdict.reason)) of \(url) is not allowed; "
                    + "the operator can open it with layers.<layer>.allow in jalmd.yml",
                details: .object(details))
        }
        switch r.code {
        case CURLE_WRITE_ERROR where r.bodyLimitExceeded, CURLE_FILESIZE_EXCEEDED:
            throw CallFailure(
                .resourceExhausted,
                "the response body exceeds max_response_bytes (\(request.maxResponseBytes) bytes)",
                details: ["reason": "max_response_bytes", "limit": .int(Int64(request.maxResponseBytes)), "url": .string(url)])
        case CURLE_OPERATION_TIMEDOUT:
            let connectPhase = !r.connected && r.connectTimeoutApplied
            let limit = connectPhase ? request.connectTimeout : request.totalTimeout
            let name = connectPhase ? "connect_timeout" : "total_timeout"
            throw CallFailure(
                .timeout, "\(url): \(name) of \(Transfer.milliseconds(limit)) ms reached",
                details: ["reason": .string(name), "limit_ms": .int(Int64(Transfer.milliseconds(limit))), "url": .string(url)])
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            throw CallFailure(
                .upstreamError, "\(url): TLS certificate verification failed: \(r.errorText)", retryable: false,
                details: ["reason": "tls_verification_failed", "host": .string(host), "url": .string(url)])
        case CURLE_UNSUPPORTED_PROTOCOL:
            throw CallFailure(
                .invalidInput, "\(url): scheme not allowed (allowed: \(request.protocols.rawValue))",
                details: ["reason": "protocol_not_allowed", "pointer": "/url", "url": .string(url)])
        case CURLE_URL_MALFORMAT:
            throw CallFailure(.invalidInput, "\"url\" is malformed: \(url)", details: ["reason": "invalid_url", "pointer": "/url"])
        case CURLE_COULDNT_RESOLVE_HOST:
            throw CallFailure(.upstreamError, "\(url): cannot resolve host \"\(host)\"",
                              details: ["reason": "dns_failed", "host": .string(host), "url": .string(url)])
        case CURLE_COULDNT_CONNECT:
            throw CallFailure(.upstreamError, "\(url): cannot connect: \(r.errorText)",
                              details: ["reason": "connect_failed", "host": .string(host), "url": .string(url)])
        case CURLE_LOGIN_DENIED:
            throw CallFailure(.upstreamError, "\(url): login denied", retryable: false,
                              details: ["reason": "login_denied", "url": .string(url)])
        case CURLE_SSL_CONNECT_ERROR, CURLE_USE_SSL_FAILED:
            throw CallFailure(.upstreamError, "\(url): TLS failed: \(r.errorText)",
                              details: ["reason": "tls_failed", "url": .string(url)])
        default:
            throw CallFailure(.upstreamError, "\(url): \(r.errorText)",
                              details: ["reason": "transfer_failed", "curl_code": .int(Int64(r.code.rawValue)),
                                        "url": .string(url)])
        }
    }
}
