#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMLayerKit
import JALMWire

/// The io-file layer: file operations confined beneath one data root.
///
/// Every path a capsule gives is relative to the root and is resolved with `openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS)` from the root's descriptor (`openat2Beneath`, the only opener), so `..`,
/// absolute paths, magic links and symlinks cannot reach outside it; ops on a final component (write,
/// delete, move, mkdir, stat, copy) open its parent that way and act with `*at` calls. Landlock, applied
/// by the launcher, is the second wall.
public final class IOFileHandler: LayerHandler {
    /// The ops this layer implements, without LayerKit's `sys.*`.
    public let ops = ["read", "write", "append", "list", "stat", "delete", "move", "mkdir",
                      "copy", "checksum", "csv.read", "csv.write", "json.read"]

    /// The data root as given at start.
    public let rootPath: String

    /// `O_PATH | O_DIRECTORY` descriptor of the root; every path is resolved beneath it.
    let rootFD: Int32

    /// The operator's bounds (`layers.io-file` in jalmd.yml).
    let settings: IOFileSettings

    /// Opens (creating it and its parents if missing) the data root, and removes the temp files of
    /// writes whose process died (`TempSweep`).
    init(root: String, settings: IOFileSettings = IOFileSettings()) throws(DataRootError) {
        guard !root.isEmpty else { throw DataRootError(root: root, reason: "the data root path is empty") }
        try Self.makeDirectories(root)
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | jalm_o_path())
        guard fd >= 0 else { throw DataRootError(root: root, reason: Errno.text(errno)) }
        self.rootPath = root
        self.rootFD = fd
        self.settings = settings
        var sweep = TempSweep(handler: self)
        sweep.run()
    }

    /// The same with default settings.
    public convenience init(root: String) throws(DataRootError) {
        try self.init(root: root, settings: IOFileSettings())
    }

    deinit { close(rootFD) }

    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "read": return try readFile(input)
        case "write": return try writeFile(input, dryRun: context.dryRun)
        case "append": return try appendFile(input, dryRun: context.dryRun)
        case "list": return try listDirectory(input)
        case "stat": return try statEntry(input)
        case "delete": return try deleteEntry(input, dryRun: context.dryRun)
        case "move": return try moveEntry(input, dryRun: context.dryRun)
        case "mkdir": return try makeDirectory(input, dryRun: context.dryRun)
        case "copy": return try copyFile(input, dryRun: context.dryRun)
        case "checksum": return try checksumFile(input)
        case "csv.read": return try readCSV(input)
        case "csv.write": return try writeCSV(input, dryRun: context.dryRun)
        case "json.read": return try readJSON(input)
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
