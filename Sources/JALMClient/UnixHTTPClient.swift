import Glibc

/// What can go wrong between the CLI and the daemon, before any HTTP status is known.
public enum HTTPClientError: Error {
    /// No connection: the socket is missing, nobody listens, or the host does not resolve.
    case unreachable(Endpoint, reason: String)
    /// Connected, but no (complete) answer came within the timeout.
    case timedOut(Endpoint, seconds: Double)
    /// The peer closed early or answered something that is not HTTP/1.1.
    case malformed(Endpoint, reason: String)
    /// The answer was bigger than `UnixHTTPClient.maxResponseBytes`.
    case tooLarge(Endpoint)
    /// A socket call failed after connecting.
    case io(Endpoint, call: String, reason: String)
}

/// A small blocking HTTP/1.1 client: one connection per request, `Connection: close`, over a Unix
/// socket or TCP. Blocking is right here: the CLI does one thing at a time and then exits.
public struct UnixHTTPClient: Sendable {
    public var endpoint: Endpoint
    /// Seconds a connect, a send or a silence between two reads may take (SO_SNDTIMEO, SO_RCVTIMEO).
    public var timeout: Double = 30
    /// Sent as `Authorization: Bearer …` when set (from `$JALM_TOKEN`).
    public var token: String?

    /// A response we would rather refuse than buffer: the daemon's biggest answers are catalogs and views.
    public static let maxResponseBytes = 256 << 20

    public init(endpoint: Endpoint, timeout: Double = 30, token: String? = nil) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.token = token
    }

    /// Sends one request on a new connection and reads the whole answer. `headers` are added as given.
    public func send(method: String, path: String, body: [UInt8] = [], contentType: String? = nil,
                     headers: [(name: String, value: String)] = []) throws(HTTPClientError) -> HTTPResponse
    {
        let fd = try connect()
        defer { close(fd) }
        try writeAll(fd, request(method: method, path: path, body: body, contentType: contentType, headers: headers))
        return try readResponse(fd)
    }

    func request(method: String, path: String, body: [UInt8], contentType: String?,
                 headers: [(name: String, value: String)], keepAlive: Bool = false) -> [UInt8] {
        var fullPath = path
        if case .tcp(_, _, let prefix) = endpoint { fullPath = prefix + path }
        var head = "\(method) \(fullPath) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
        head += "User-Agent: jalm\r\nAccept: application/json, application/problem+json\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "Content-Length: \(body.count)\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        if let token, !token.isEmpty { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    // MARK: Connecting

    func connect() throws(HTTPClientError) -> Int32 {
        switch endpoint {
        case .unix(let path): try connectUnix(path)
        case .tcp(let host, let port, _): try connectTCP(host: host, port: port)
        }
    }

    private func connectUnix(_ path: String) throws(HTTPClientError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < capacity else {
            throw .unreachable(endpoint, reason: "the socket path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = try openSocket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue), proto: 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let reason = errnoText()
            close(fd)
            throw .unreachable(endpoint, reason: reason)
        }
        return fd
    }

    private func connectTCP(host: String, port: UInt16) throws(HTTPClientError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .unreachable(endpoint, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var lastReason = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            next = info.pointee.ai_next
            guard let fd = try? openSocket(family: info.pointee.ai_family, type: info.pointee.ai_socktype,
                                           proto: info.pointee.ai_protocol) else { continue }
            // Linux bounds connect(2) by SO_SNDTIMEO, set in openSocket (socket(7)).
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastReason = errno == EINPROGRESS ? "connect timed out" : errnoText()
            close(fd)
        }
        throw .unreachable(endpoint, reason: lastReason)
    }

    private func openSocket(family: Int32, type: Int32, proto: Int32) throws(HTTPClientError) -> Int32 {
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard fd >= 0 else { throw .io(endpoint, call: "socket", reason: errnoText()) }
        let whole = timeout.rounded(.down)
        var tv = timeval(tv_sec: Int(whole), tv_usec: Int((timeout - whole) * 1_000_000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size)
        return fd
    }

    // MARK: Sending and receiving

    func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(HTTPClientError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { sent += n; continue }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(endpoint, seconds: timeout) }
            // The daemon may answer (413, 400) and close before reading the whole body: read what it said.
            if errno == EPIPE || errno == ECONNRESET { return }
            throw .io(endpoint, call: "send", reason: errnoText())
        }
    }

    func readResponse(_ fd: Int32) throws(HTTPClientError) -> HTTPResponse {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var headSeen = false
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(endpoint, seconds: timeout) }
                if errno == ECONNRESET, !buffer.isEmpty { return try finish(buffer) }
                throw .io(endpoint, call: "recv", reason: errnoText())
            }
            if n == 0 { return try finish(buffer) }
            buffer.append(contentsOf: chunk[0..<n])
            guard buffer.count <= Self.maxResponseBytes else { throw .tooLarge(endpoint) }
            // Connection: close means the daemon closes after answering; stopping early only spares
            // waiting for a peer that keeps the connection open anyway. Checks stay cheap per read.
            if !headSeen { headSeen = HTTPResponseParser.find([13, 10, 13, 10], in: buffer, from: 0) != nil }
            if headSeen, n < chunk.count || HTTPResponseParser.mayBeComplete(buffer),
               let response = try tryParse(buffer, atEOF: false)
            {
                return response
            }
        }
    }

    private func tryParse(_ buffer: [UInt8], atEOF: Bool) throws(HTTPClientError) -> HTTPResponse? {
        do {
            return try HTTPResponseParser.parse(buffer, atEOF: atEOF)
        } catch {
            throw .malformed(endpoint, reason: error.reason)
        }
    }

    /// The peer closed: what we have must be a whole response.
    private func finish(_ buffer: [UInt8]) throws(HTTPClientError) -> HTTPResponse {
        guard !buffer.isEmpty else {
            throw .malformed(endpoint, reason: "jalmd closed the connection without answering")
        }
        guard let response = try tryParse(buffer, atEOF: true) else {
            throw .malformed(endpoint, reason: "incomplete response")
        }
        return response
    }
}

/// `strerror(errno)`, read at once before another call can change errno.
public func errnoText() -> String {
    String(cString: strerror(errno))
}
