#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMWire
@testable import jalm_layer_io_file

/// A fresh temp folder holding `root/` (the data root) and `outside/` (a file the root must not reach).
final class Fixture {
    let base: String
    let root: String
    let outside: String
    let handler: IOFileHandler

    init(settings: IOFileSettings = IOFileSettings()) throws {
        var template = Array("/tmp/iofile-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: \(errno)") }
        base = String(cString: made)
        root = base + "/root"
        outside = base + "/outside"
        handler = try IOFileHandler(root: root, settings: settings)
        guard Glibc.mkdir(outside, 0o755) == 0 else { throw FixtureError("mkdir outside") }
        try writeRaw(outside + "/secret.txt", Array("secret".utf8))
    }

    deinit { removeTree(base) }

    /// Runs `op` and returns its output, failing the test on an error.
    func call(_ op: String, _ input: JSONValue) async throws -> JSONValue {
        try await handler.handle(op: op, input: input, context: Self.context)
    }

    /// Runs `op` as a dry run.
    func dryRun(_ op: String, _ input: JSONValue) async throws -> JSONValue {
        try await handler.handle(op: op, input: input, context: CallContext(callID: 1, deadline: .now + .seconds(30), dryRun: true))
    }

    /// Runs `op` expecting it to fail; returns the failure, or nil if it succeeded.
    func failure(_ op: String, _ input: JSONValue) async -> CallFailure? {
        do {
            _ = try await handler.handle(op: op, input: input, context: Self.context)
            return nil
        } catch {
            return error
        }
    }

    static var context: CallContext { CallContext(callID: 1, deadline: .now + .seconds(30)) }

    /// Names in `dir` (relative to the root), without `.`/`..`, sorted; read with plain Glibc.
    func namesOnDisk(_ dir: String = ".") -> [String] {
        guard let d = opendir(root + "/" + dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func readRaw(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }

    func writeRaw(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FixtureError("open \(path): \(errno)") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw FixtureError("write \(path)") }
    }

    /// Content and mtime (ns) of a file, to show it was neither written nor replaced.
    func fingerprint(_ path: String) -> ([UInt8]?, Int64) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return (nil, -1) }
        return (readRaw(path), Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// Names beside the sentinel, outside the root.
    func namesOutside() -> [String] { namesOnDisk("../outside") }

    /// `outside` as seen from `/` without its leading slash (for paths through /proc/self/root).
    var relativeOutside: String { String(outside.dropFirst()) }

    func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `rm -rf` without Foundation: depth-first, never following symlinks.
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    guard st.st_mode & S_IFMT == S_IFDIR else { unlink(path); return }
    if let d = opendir(path) {
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for name in names { removeTree(path + "/" + name) }
    }
    rmdir(path)
}
