#if canImport(Glibc)
import Glibc
#endif
import JALMWire

/// A blocking-style TCP client connection for the Redis and NATS clients, run on a `BlockingIO` thread.
///
/// The socket is non-blocking and every wait is a `poll` bounded by the connect timeout, the call's
/// deadline and its cancel flag, so a silent or slow server costs a `timeout`, never a hung call.
final class TCPConnection {
    let fd: Int32
    let label: String
    let budget: IOBudget
    private var buffer: [UInt8] = []
    private var start = 0

    /// The most bytes buffered for one reply line or bulk value; a server sending more is an upstream fault.
    static let maxReplyBytes = 8 * 1024 * 1024

    private init(fd: Int32, label: String, budget: IOBudget) {
        self.fd = fd
        self.label = label
        self.budget = budget
    }

    deinit { close(fd) }

    /// Resolves `endpoint.host` and connects to the first address that answers.
    static func open(_ endpoint: ServerEndpoint, label: String, budget: IOBudget) throws(CallFailure) -> TCPConnection {
        let connectBy = min(budget.deadline, .now + .milliseconds(endpoint.connectTimeoutMs))
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw CallFailure(.upstreamError, "\(label): cannot resolve \"\(endpoint.host)\": \(String(cString: gai_strerror(rc)))",
                              details: ["reason": "resolve_failed"])
        }
        defer { freeaddrinfo(list) }
        var lastError: CallFailure?
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            do throws(CallFailure) {
                let fd = try connect(ai.pointee, by: connectBy, label: label, endpoint: endpoint, budget: budget)
                return TCPConnection(fd: fd, label: label, budget: budget)
            } catch {
                if error.code != .upstreamError { throw error }
                lastError = error
            }
        }
        throw lastError ?? CallFailure(.upstreamError, "\(label): no address for \(endpoint.display)")
    }

    private static func connect(_ ai: addrinfo, by connectBy: ContinuousClock.Instant, label: String,
                                endpoint: ServerEndpoint, budget: IOBudget) throws(CallFailure) -> Int32 {
        let fd = socket(ai.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw CallFailure(.upstreamError, "\(label): socket(): \(String(cString: strerror(errno)))",
                              details: ["reason": "connect_failed"])
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS {
            let e = errno
            close(fd)
            throw connectFailure(label, endpoint, e)
        }
        do throws(CallFailure) {
            try wait(fd: fd, events: Int16(POLLOUT), until: connectBy, budget: budget, label: label,
                     what: "connecting to \(endpoint.display) (connect_timeout_ms \(endpoint.connectTimeoutMs))")
        } catch {
            close(fd)
            throw error
        }
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        if soError != 0 {
            close(fd)
            throw connectFailure(label, endpoint, soError)
        }
        return fd
    }

    private static func connectFailure(_ label: String, _ endpoint: ServerEndpoint, _ err: Int32) -> CallFailure {
        CallFailure(.upstreamError, "\(label): cannot connect to \(endpoint.display): \(String(cString: strerror(err)))",
                    details: ["reason": "connect_failed", "errno": .int(Int64(err))])
    }

    /// Waits until `fd` is ready for `events`, in slices, honouring `until` and the budget's cancel flag.
    private static func wait(fd: Int32, events: Int16, until: ContinuousClock.Instant, budget: IOBudget,
                             label: String, what: String) throws(CallFailure) {
        while true {
            if budget.isCancelled { throw CallFailure(.cancelled, "\(label): cancelled while \(what)") }
            let left = IOBudget.millis(until: until)
            if left == 0 {
                let reason = until < budget.deadline ? "connect_timeout" : "deadline"
                throw CallFailure(.timeout, "\(label): timed out \(what)", details: ["reason": .string(reason)])
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left, IOBudget.sliceMs)))
            if n > 0 { return }
            if n < 0 && errno != EINTR {
                throw CallFailure(.upstreamError, "\(label): poll: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Sends all of `bytes` before the call's deadline.
    func send(_ bytes: [UInt8]) throws(CallFailure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try Self.wait(fd: fd, events: Int16(POLLOUT), until: budget.deadline, budget: budget, label: label,
                              what: "sending")
                continue
            }
            throw CallFailure(.upstreamError, "\(label): send failed: \(String(cString: strerror(errno)))",
                              details: ["reason": "connection_lost"])
        }
    }

    /// Reads more bytes into the buffer; the server closing the connection is an upstream fault.
    private func fill() throws(CallFailure) {
        if start > 0 { buffer.removeSubrange(0..<start); start = 0 }
        if buffer.count - start > Self.maxReplyBytes {
            throw CallFailure(.upstreamError, "\(label): a reply exceeds \(Self.maxReplyBytes) bytes",
                              details: ["reason": "reply_too_large"])
        }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return }
            if n == 0 {
                throw CallFailure(.upstreamError, "\(label): the server closed the connection",
                                  details: ["reason": "connection_closed"])
            }
            if errno == EAGAIN || errno == EINTR {
                try Self.wait(fd: fd, events: Int16(POLLIN), until: budget.deadline, budget: budget, label: label,
                              what: "waiting for the server's reply")
                continue
            }
            throw CallFailure(.upstreamError, "\(label): receive failed: \(String(cString: strerror(errno)))",
                              details: ["reason": "connection_lost"])
        }
    }

    /// One line without its CRLF.
    func readLine() throws(CallFailure) -> [UInt8] {
        var scanned = 0   // bytes past `start` known to hold no CRLF; relative, as `fill` may compact
        while true {
            var i = start + scanned
            while i + 1 < buffer.count {
                if buffer[i] == 0x0D && buffer[i + 1] == 0x0A {
                    let line = Array(buffer[start..<i])
                    start = i + 2
                    return line
                }
                i += 1
            }
            scanned = max(0, buffer.count - start - 1)
            try fill()
        }
    }

    /// Exactly `count` bytes.
    func readExactly(_ count: Int) throws(CallFailure) -> [UInt8] {
        while buffer.count - start < count { try fill() }
        let bytes = Array(buffer[start..<start + count])
        start += count
        return bytes
    }
}
