import Glibc

/// The same client over one persistent connection (HTTP/1.1 keep-alive), one request at a time: what
/// most HTTP client libraries do, and what a benchmark must do to measure the daemon rather than the cost
/// of a connection per request. Not for sharing between threads: one per thread.
public final class KeepAliveClient {
    private let client: UnixHTTPClient
    private var fd: Int32 = -1
    /// Requests answered on this connection so far.
    private var served = 0

    public init(_ client: UnixHTTPClient) { self.client = client }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends one request and reads its answer. A connection that the daemon closed while idle (no byte of
    /// an answer came back) is opened again once and the request resent: the daemon never read it.
    public func send(method: String, path: String, body: [UInt8] = [], contentType: String? = nil,
                     headers: [(name: String, value: String)] = []) throws(HTTPClientError) -> HTTPResponse {
        let bytes = client.request(method: method, path: path, body: body, contentType: contentType, headers: headers,
                                   keepAlive: true)
        do {
            return try exchange(bytes)
        } catch {
            guard served > 0, case .malformed = error else { throw error }
            reset()
            return try exchange(bytes)
        }
    }

    private func exchange(_ bytes: [UInt8]) throws(HTTPClientError) -> HTTPResponse {
        if fd < 0 {
            fd = try client.connect()
            served = 0
        }
        do {
            try client.writeAll(fd, bytes)
            let response = try client.readResponse(fd)
            served += 1
            if response.header("Connection")?.lowercased() == "close" { reset() }
            return response
        } catch {
            reset()
            throw error
        }
    }

    private func reset() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
