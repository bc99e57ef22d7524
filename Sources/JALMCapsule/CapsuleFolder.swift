#if canImport(Glibc)
import Glibc
#endif
import JALMCore

/// Fragments from a folder: `<data>/capsules/` in jalmd, `--capsules-dir` in `jalm lint`. A path may not
/// leave the folder, by `..` (refused before anything is opened) nor by a symlink: the real path is checked
/// before the file is opened, and the real path of what was opened after (`/proc/self/fd`), so that a
/// symlink swapped in between cannot lead out either.
public struct CapsuleFolder: FragmentSource {
    /// The folder, as configured.
    public let root: String

    public init(root: String) { self.root = root }

    public func read(_ path: String, limit: Int) throws(RunnerError) -> FragmentFile {
        guard let base = Self.realPath(root) else {
            throw Self.refusal("no capsules folder \(root) (\(Self.errnoText()))")
        }
        guard let real = Self.realPath(base + "/" + path) else {
            throw Self.refusal(errno == ENOENT || errno == ENOTDIR ? "no file \(path) in the capsules folder"
                                                                   : "cannot read \(path): \(Self.errnoText())")
        }
        let name = try Self.inside(real, base: base, path: path)
        // O_NONBLOCK: a FIFO planted in the folder must not hang the submission; a regular file ignores it.
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw Self.refusal("cannot read \(path): \(Self.errnoText())") }
        defer { close(fd) }
        let opened = Self.realPath("/proc/self/fd/\(fd)") ?? ""
        guard opened == real else { throw Self.refusal("\(path) changed while it was opened; try again") }
        return FragmentFile(name: name, bytes: try Self.contents(fd, path: path, limit: limit))
    }

    /// `real` relative to `base`, or a refusal when it is not beneath it.
    static func inside(_ real: String, base: String, path: String) throws(RunnerError) -> String {
        let prefix = base == "/" ? "/" : base + "/"
        guard real.hasPrefix(prefix), real.count > prefix.count else {
            throw refusal("\(path) leads outside the capsules folder (through a symlink)")
        }
        return String(real.dropFirst(prefix.count))
    }

    /// At most `limit` bytes of a regular file.
    static func contents(_ fd: Int32, path: String, limit: Int) throws(RunnerError) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw refusal("\(path) is not a regular file")
        }
        guard Int(st.st_size) <= limit else {
            throw refusal("\(path) has \(st.st_size) bytes; a fragment file may have at most \(limit)")
        }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count <= limit {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, limit + 1 - count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw refusal("cannot read \(path): \(errnoText())") }
            if n == 0 { break }
            count += n
        }
        // The file grew after fstat: the limit holds for what was read too.
        guard count <= limit else { throw refusal("\(path) has more than \(limit) bytes; a fragment file may have at most \(limit)") }
        return Array(bytes[0..<count])
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func refusal(_ message: String) -> RunnerError { RunnerError(.invalidInput, message) }
}
