#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMLayerKit
import JALMWire

/// The io-file layer: file operations confined beneath one data root.
///
/// Every path a capsule gives is relative to the root and is resolved with `openat2(RESOLVE_BENEATH)`
/// from the root's descriptor, so `..`, absolute paths and symlinks cannot reach outside it; ops on a
/// final component (delete, move, mkdir, stat) open its parent that way and act with `*at` calls.
public final class IOFileHandler: LayerHandler {
    /// The ops this layer implements, without LayerKit's `sys.*`.
    public let ops = ["read", "write", "append", "list", "stat", "delete", "move", "mkdir"]

    /// The data root as given at start.
    public let rootPath: String

    /// `O_PATH | O_DIRECTORY` descriptor of the root; every path is resolved beneath it.
    let rootFD: Int32

    /// Opens (creating it and its parents if missing) the data root.
    public init(root: String) throws(DataRootError) {
        guard !root.isEmpty else { throw DataRootError(root: root, reason: "the data root path is empty") }
        try Self.makeDirectories(root)
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | jalm_o_path())
        guard fd >= 0 else { throw DataRootError(root: root, reason: Errno.text(errno)) }
        self.rootPath = root
        self.rootFD = fd
    }

    deinit { close(rootFD) }

    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "read": return try readFile(input)
        case "write": return try writeFile(input)
        case "append": return try appendFile(input)
        case "list": return try listDirectory(input)
        case "stat": return try statEntry(input)
        case "delete": return try deleteEntry(input)
        case "move": return try moveEntry(input)
        case "mkdir": return try makeDirectory(input)
        default: throw CallFailure(.notFound, "unknown op \"\(op)\" in io-file", details: ["op": .string(op)])
        }
    }

    /// `mkdir -p` for the root itself, which is trusted configuration and not confined.
    private static func makeDirectories(_ path: String) throws(DataRootError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw DataRootError(root: path, reason: "cannot create \(prefix): \(Errno.text(errno))")
            }
        }
    }
}

/// The data root could not be opened or created; the plugin cannot start.
public struct DataRootError: Error, Sendable, CustomStringConvertible {
    public var root: String
    public var reason: String
    public var description: String { "data root \"\(root)\": \(reason)" }
}
