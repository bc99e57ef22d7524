#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import JALMWire

/// Where named secrets come from: systemd credentials (`$CREDENTIALS_DIRECTORY`, from `LoadCredential=`)
/// first, then the `secrets_dir` folder (`<data>/secrets` by default), one file per secret, named as the
/// secret, its value the file's content without one trailing newline. Values are read when needed, so a
/// rotated secret is used from the next step on without a restart.
///
/// In JALMSupervisor because the supervisor reads it at every spawn (`{secret: NAME}` in layer settings,
/// carried by `SupervisorSettings`); the engine, which reads it at every dispatch (`{{ secrets.NAME }}`),
/// sits above the supervisor and imports it from here, so neither needs the other's module in reverse.
/// Not in JALMCore, which does no I/O.
public struct SecretStore: Sendable {
    public let directories: [String]
    /// The largest secret accepted, bytes: a secret is a token or a connection string, not a file.
    public static let maxBytes = 64 * 1024

    public init(directories: [String]) { self.directories = directories }

    /// The store for a daemon: systemd's credentials folder when set, then `secretsDirectory`.
    public static func standard(secretsDirectory: String) -> SecretStore {
        var dirs: [String] = []
        if let p = getenv("CREDENTIALS_DIRECTORY"), p.pointee != 0 { dirs.append(String(cString: p)) }
        dirs.append(secretsDirectory)
        return SecretStore(directories: dirs)
    }

    /// A secret name: letters, digits, `_`, `-`, `.`; never a path.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == 0x5F || c == 0x2D || c == 0x2E
            }
    }

    /// The secret's value; `not_found` names the folders searched, never a value.
    public func value(of name: String) throws(RunnerError) -> String {
        guard Self.isValidName(name) else {
            throw RunnerError(.invalidInput, "\"\(name)\" is not a secret name (letters, digits, _ - . only)")
        }
        for dir in directories {
            let fd = open(dir + "/" + name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd < 0 { continue }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                bytes += buffer[0..<n]
                // Room for a trailing CR LF, which is not part of the value.
                if bytes.count > Self.maxBytes + 2 { break }
            }
            if bytes.last == 0x0A { bytes.removeLast() }
            if bytes.last == 0x0D { bytes.removeLast() }
            guard bytes.count <= Self.maxBytes else {
                throw RunnerError(.resourceExhausted, "secret \"\(name)\" is larger than \(Self.maxBytes) bytes")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        throw RunnerError(.notFound, "secret \"\(name)\" is not set (looked in \(directories.joined(separator: ", ")))")
    }

    /// `value` with every `{"secret": "NAME"}` object replaced by the secret's value (layer config).
    public func resolvingReferences(in value: JSONValue) throws(RunnerError) -> JSONValue {
        switch value {
        case .object(let o):
            if o.count == 1, let name = o["secret"]?.stringValue { return .string(try self.value(of: name)) }
            var out: [String: JSONValue] = [:]
            for (k, v) in o { out[k] = try resolvingReferences(in: v) }
            return .object(out)
        case .array(let a):
            var out: [JSONValue] = []
            for v in a { out.append(try resolvingReferences(in: v)) }
            return .array(out)
        default:
            return value
        }
    }
}
