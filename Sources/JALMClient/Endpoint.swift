import Glibc

/// Where jalmd answers: its local Unix control socket, or its HTTP port.
public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    /// `prefix` is a path the URL named before the API routes (for a reverse proxy), without a trailing slash.
    case tcp(host: String, port: UInt16, prefix: String)

    /// Where the daemon puts its socket when run as a systemd service (`RuntimeDirectory=jalm`).
    public static let systemSocket = "/run/jalm/jalmd.sock"
    /// Where `jalmd` run by hand in a project folder puts its socket.
    public static let localSocket = "./.jalm/jalmd.sock"

    public var description: String {
        switch self {
        case .unix(let path): path
        case .tcp(let host, let port, let prefix):
            "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(prefix)"
        }
    }

    /// The `Host` header: a Unix socket has no host, so the daemon is named instead.
    public var hostHeader: String {
        switch self {
        case .unix: "jalm"
        case .tcp(let host, let port, _): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// Socket resolution: `--socket`, else `$JALM_SOCKET`, else `./.jalm/jalmd.sock` if it exists,
    /// else the system socket.
    public static func resolveSocket(option: String?) -> Endpoint {
        if let option { return .unix(path: option) }
        if let env = environment("JALM_SOCKET"), !env.isEmpty { return .unix(path: env) }
        if access(localSocket, F_OK) == 0 { return .unix(path: localSocket) }
        return .unix(path: systemSocket)
    }

    /// Parses `http://HOST[:PORT][/PREFIX]`; IPv6 hosts in brackets. Returns nil with a reason.
    public static func parse(url: String) -> Result<Endpoint, URLError> {
        guard url.hasPrefix("http://") else {
            return .failure(URLError(reason: url.hasPrefix("https://")
                ? "https is not supported: jalmd serves plain HTTP on loopback (put a TLS proxy in front of it)"
                : "expected http://HOST[:PORT], e.g. http://127.0.0.1:8888"))
        }
        var rest = Substring(url.dropFirst("http://".count))
        var prefix = ""
        if let slash = rest.firstIndex(of: "/") {
            prefix = String(rest[slash...])
            rest = rest[..<slash]
            while prefix.hasSuffix("/") { prefix.removeLast() }
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                return .failure(URLError(reason: "unexpected \"\(after)\" after the IPv6 address"))
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return .failure(URLError(reason: "the URL names no host")) }
        var port: UInt16 = 80
        if let portText {
            guard let p = UInt16(portText), p > 0 else {
                return .failure(URLError(reason: "\"\(portText)\" is not a TCP port"))
            }
            port = p
        }
        return .success(.tcp(host: String(host), port: port, prefix: prefix))
    }

    public struct URLError: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }
}

/// An environment variable, or nil when unset.
public func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
