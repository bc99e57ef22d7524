#if canImport(Glibc)
import Glibc
#endif
import CCurl
import JALMWire

/// One hop of a transfer: an easy handle, its settings and what its callbacks collect.
///
/// Thread confinement: after `configure` the object is touched only by the multi thread (callbacks and
/// completion) until `finish` resumes the waiting task, which then reads the results. `cancelRequested`
/// is the one field written from elsewhere, under the multi's lock.
final class Transfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let request: NetRequest
    let policy: AddressPolicy
    /// The URL's host as written, for host entries of the allowlist and for error details.
    let host: String
    let deadline: ContinuousClock.Instant

    /// The hop's whole time budget (what is left of the total timeout when it starts).
    private(set) var hopTimeoutMs = 0
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    private var uploadOffset = 0

    // Collected by callbacks on the multi thread.
    var statusHeaders: [HeaderField] = []
    var body: [UInt8] = []
    var bodyLimitExceeded = false
    /// Addresses the guard refused, with their class, in the order curl tried them.
    var refused: [(address: IPAddress, port: Int, verdict: AddressClass)] = []
    var connectAttempts = 0

    /// Set under the multi's lock when the task is cancelled.
    var cancelRequested = false
    var continuation: CheckedContinuation<Result<HopResult, CallFailure>, Never>?

    init(request: NetRequest, policy: AddressPolicy, host: String, caBundle: [UInt8]?,
         deadline: ContinuousClock.Instant) throws(CallFailure) {
        guard let easy = curl_easy_init() else { throw CallFailure(.internal, "curl_easy_init failed") }
        self.easy = easy
        self.request = request
        self.policy = policy
        self.host = host
        self.deadline = deadline
        try configure(caBundle: caBundle)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        curl_slist_free_all(recipientList)
    }

    private func check(_ rc: CURLcode, _ what: String) throws(CallFailure) {
        guard rc == CURLE_OK else {
            throw CallFailure(.internal, "libcurl refused \(what): \(String(cString: curl_easy_strerror(rc)))")
        }
    }

    private func configure(caBundle: [UInt8]?) throws(CallFailure) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(jalm_curl_set_string(easy, CURLOPT_URL, request.url), "the URL")
        try check(jalm_curl_set_long(easy, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        // Only the protocols of this family, on the first URL and on any redirect curl might see.
        try check(jalm_curl_set_string(easy, CURLOPT_PROTOCOLS_STR, request.protocols.rawValue), "protocols")
        try check(jalm_curl_set_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, request.protocols.rawValue), "protocols")
        // Redirects are followed by NetClient, one hop at a time, so each hop gets its own guard host and CA.
        try check(jalm_curl_set_long(easy, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        // Never a proxy from the environment: the guard must judge the destination itself.
        try check(jalm_curl_set_string(easy, CURLOPT_PROXY, ""), "PROXY")
        // TLS verification is always on; a host's own CA bundle replaces the system one for that host.
        try check(jalm_curl_set_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "SSL_VERIFYPEER")
        try check(jalm_curl_set_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "SSL_VERIFYHOST")
        if let caBundle {
            let rc = caBundle.withUnsafeBytes { jalm_curl_set_ca_blob(easy, $0.baseAddress, $0.count) }
            try check(rc, "the CA bundle")
        }
        try check(jalm_curl_set_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)),
                  "CONNECTTIMEOUT")
        let remaining = ContinuousClock.now.duration(to: deadline)
        hopTimeoutMs = max(1, Self.milliseconds(remaining))
        try check(jalm_curl_set_long(easy, CURLOPT_TIMEOUT_MS, hopTimeoutMs), "TIMEOUT")
        try check(jalm_curl_set_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)),
                  "MAXFILESIZE")
        try check(jalm_curl_set_opensocket(easy, { ud, purpose, address in
            Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue().openSocket(purpose, address!)
        }, me), "OPENSOCKETFUNCTION")
        try check(jalm_curl_set_write(easy, { data, size, count, ud in
            Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue().receive(data!, size * count)
        }, me), "WRITEFUNCTION")
        try check(jalm_curl_set_header(easy, { data, size, count, ud in
            Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue().receiveHeader(data!, size * count)
        }, me), "HEADERFUNCTION")
        if let username = request.username {
            try check(jalm_curl_set_string(easy, CURLOPT_USERNAME, username), "USERNAME")
        }
        if let password = request.password {
            try check(jalm_curl_set_string(easy, CURLOPT_PASSWORD, password), "PASSWORD")
        }
        switch request.protocols {
        case .http: try configureHTTP()
        case .mail: try configureMail()
        }
    }

    private func configureHTTP() throws(CallFailure) {
        if request.decodeContent {
            try check(jalm_curl_set_string(easy, CURLOPT_ACCEPT_ENCODING, ""), "ACCEPT_ENCODING")
        }
        // `Expect: 100-continue` would add a round trip for bodies over 1 MiB; servers rarely need it.
        var lines = ["Expect:"]
        for h in request.headers {
            // A header with an empty value is sent as `Name;` (curl's spelling), not dropped.
            lines.append(h.value.isEmpty ? "\(h.name);" : "\(h.name): \(h.value)")
        }
        for line in lines { headerList = curl_slist_append(headerList, line) }
        try check(jalm_curl_set_slist(easy, CURLOPT_HTTPHEADER, headerList), "headers")
        let method = request.method.uppercased()
        if method == "HEAD" {
            try check(jalm_curl_set_long(easy, CURLOPT_NOBODY, 1), "NOBODY")
        } else if let body = request.body {
            try check(jalm_curl_set_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            // COPYPOSTFIELDS: curl keeps its own copy; an empty body still needs a valid pointer.
            let padded = body.isEmpty ? [0] : body
            let rc = padded.withUnsafeBytes {
                jalm_curl_set_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
            }
            try check(rc, "the body")
            if method != "POST" { try check(jalm_curl_set_string(easy, CURLOPT_CUSTOMREQUEST, method), "method") }
        } else if method != "GET" {
            try check(jalm_curl_set_string(easy, CURLOPT_CUSTOMREQUEST, method), "method")
        }
    }

    private func configureMail() throws(CallFailure) {
        if let from = request.mailFrom {
            try check(jalm_curl_set_string(easy, CURLOPT_MAIL_FROM, "<\(from)>"), "MAIL_FROM")
        }
        for r in request.mailRecipients { recipientList = curl_slist_append(recipientList, "<\(r)>") }
        try check(jalm_curl_set_slist(easy, CURLOPT_MAIL_RCPT, recipientList), "MAIL_RCPT")
        let tls: Int = request.mailTLS == .required ? Int(CURLUSESSL_ALL.rawValue) : Int(CURLUSESSL_TRY.rawValue)
        try check(jalm_curl_set_long(easy, CURLOPT_USE_SSL, tls), "USE_SSL")
        try check(jalm_curl_set_long(easy, CURLOPT_UPLOAD, 1), "UPLOAD")
        try check(jalm_curl_set_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body?.count ?? 0)), "size")
        try check(jalm_curl_set_read(easy, { data, size, count, ud in
            Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue().send(data!, size * count)
        }, Unmanaged.passUnretained(self).toOpaque()), "READFUNCTION")
    }

    // MARK: callbacks (multi thread)

    /// The SSRF guard: every address curl is about to connect to, after resolution, for every hop and
    /// every address tried. A refused address gets no socket, so no packet is ever sent to it.
    private func openSocket(_ purpose: curlsocktype, _ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        connectAttempts += 1
        var raw = [UInt8](repeating: 0, count: 16)
        var port: Int32 = 0
        let family = raw.withUnsafeMutableBufferPointer { jalm_curl_sockaddr(address, $0.baseAddress, &port) }
        guard family == 4 || family == 6, let ip = IPAddress(bytes: Array(raw.prefix(family == 4 ? 4 : 16))) else {
            return jalm_curl_socket_bad()
        }
        switch policy.decide(ip, host: host) {
        case .allowed:
            return jalm_curl_socket(address)
        case .denied(let cls):
            refused.append((ip, Int(port), cls))
            return jalm_curl_socket_bad()
        }
    }

    private func receive(_ data: UnsafeMutablePointer<CChar>, _ n: Int) -> Int {
        guard body.count + n <= request.maxResponseBytes else {
            bodyLimitExceeded = true
            return 0  // curl stops with CURLE_WRITE_ERROR
        }
        data.withMemoryRebound(to: UInt8.self, capacity: n) { body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        return n
    }

    private func receiveHeader(_ data: UnsafeMutablePointer<CChar>, _ n: Int) -> Int {
        var bytes = data.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
        while let last = bytes.last, last == 13 || last == 10 || last == 32 || last == 9 { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            statusHeaders = []  // a new response (after 100 Continue, or a new hop): start over
        } else if let colon = line.firstIndex(of: ":") {
            var value = line[line.index(after: colon)...]
            while value.first == " " || value.first == "\t" { value = value.dropFirst() }
            statusHeaders.append(HeaderField(String(line[..<colon]), String(value)))
        }
        return n
    }

    private func send(_ buffer: UnsafeMutablePointer<CChar>, _ capacity: Int) -> Int {
        guard let body = request.body, uploadOffset < body.count else { return 0 }
        let n = min(capacity, body.count - uploadOffset)
        body.withUnsafeBufferPointer { src in
            UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + uploadOffset, byteCount: n)
        }
        uploadOffset += n
        return n
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (s, atto) = d.components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }
}

/// What one hop ended with, read on the multi thread right after curl finished it.
struct HopResult: Sendable {
    var code: CURLcode
    var status: Int
    var headers: [HeaderField]
    var body: [UInt8]
    var redirectURL: String?
    var effectiveURL: String
    var remoteAddress: String?
    var timing: NetTiming
    var bodyLimitExceeded: Bool
    var refused: [(address: IPAddress, port: Int, verdict: AddressClass)]
    var connectAttempts: Int
    /// Whether the hop got past connecting (on a new connection or a reused one).
    var connected: Bool
    /// A timeout before connecting is the connect timeout only if the hop had more time than that.
    var connectTimeoutApplied: Bool
    var errorText: String
}

extension Transfer {
    /// Reads the finished hop's facts from the easy handle.
    func result(_ code: CURLcode, errorText: String) -> HopResult {
        var status = 0
        _ = jalm_curl_get_long(easy, CURLINFO_RESPONSE_CODE, &status)
        func string(_ info: CURLINFO) -> String? {
            var p: UnsafeMutablePointer<CChar>?
            guard jalm_curl_get_string(easy, info, &p) == CURLE_OK, let p else { return nil }
            return String(cString: p)
        }
        func micros(_ info: CURLINFO) -> Double {
            var v: curl_off_t = 0
            _ = jalm_curl_get_off(easy, info, &v)
            return Double(v) / 1000
        }
        let dns = micros(CURLINFO_NAMELOOKUP_TIME_T)
        let connect = micros(CURLINFO_CONNECT_TIME_T)
        let app = micros(CURLINFO_APPCONNECT_TIME_T)
        // A reused connection reports no connect time, but its pretransfer time is set.
        let pretransfer = micros(CURLINFO_PRETRANSFER_TIME_T)
        let start = micros(CURLINFO_STARTTRANSFER_TIME_T)
        let total = micros(CURLINFO_TOTAL_TIME_T)
        var t = NetTiming()
        t.dnsMs = dns
        t.connectMs = connect > 0 ? max(0, connect - dns) : 0
        t.tlsMs = app > 0 ? max(0, app - connect) : 0
        t.firstByteMs = start > 0 ? max(0, start - max(app, connect)) : 0
        t.totalMs = total
        let ip = string(CURLINFO_PRIMARY_IP)
        return HopResult(
            code: code, status: status, headers: statusHeaders, body: body,
            redirectURL: string(CURLINFO_REDIRECT_URL), effectiveURL: string(CURLINFO_EFFECTIVE_URL) ?? request.url,
            remoteAddress: ip.flatMap { $0.isEmpty ? nil : $0 }, timing: t, bodyLimitExceeded: bodyLimitExceeded,
            refused: refused, connectAttempts: connectAttempts, connected: connect > 0 || pretransfer > 0,
            connectTimeoutApplied: Self.milliseconds(request.connectTimeout) < hopTimeoutMs, errorText: errorText)
    }
}

