#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JALMCore

/// The little file I/O the sandbox needs (policy files, cgroup files, /proc), on plain POSIX calls:
/// cgroup and /proc files are read and written in one call each, as the kernel expects.
enum SysFile {
    /// The whole file as bytes, or nil when it cannot be opened or read.
    static func readBytes(_ path: String, limit: Int = 4 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The whole file as text, or nil.
    static func read(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes `text` in one write(2), as cgroup files want it. Returns 0 or the errno.
    /// `create` adds O_CREAT|O_TRUNC: harmless on cgroupfs, where the file exists, and what lets the tests
    /// run the same code against a folder of plain files.
    @discardableResult
    static func write(_ path: String, _ text: String, create: Bool = false) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0o644)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? 0 : (n < 0 ? errno : EIO)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir(2) of one directory; an existing one is fine. Returns 0 or the errno.
    static func makeDirectory(_ path: String) -> Int32 {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return 0 }
        return errno
    }

    /// The names in a directory, without `.` and `..`; empty when it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The target of a symbolic link (such as `/proc/PID/ns/net` → `net:[4026531992]`), or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
