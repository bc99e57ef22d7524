#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMWire

/// Blocking descriptor I/O that retries on EINTR and short counts.
enum FileIO {
    /// Reads the whole file, but no more than `limit` bytes; returns nil when it holds more.
    static func readAll(_ fd: Int32, limit: Int, sizeHint: Int) -> Result<[UInt8]?, Errno.Code> {
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(max(sizeHint, 0), limit) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Errno.Code(errno))
            }
            if n == 0 { return .success(bytes) }
            if bytes.count + n > limit { return .success(nil) }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Reads into `buffer` from byte `offset` of the file (pread, retried on EINTR); 0 at the end.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Result<Int, Errno.Code> {
        while true {
            let n = pread(fd, buffer.baseAddress!, buffer.count, off_t(offset))
            if n >= 0 { return .success(n) }
            if errno != EINTR { return .failure(Errno.Code(errno)) }
        }
    }

    /// Writes every byte of `bytes`; returns the errno of the first failure.
    static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Errno.Code? {
        let e = bytes.withContiguousStorageIfAvailable { Descriptor.writeAll(fd, UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { Descriptor.writeAll(fd, $0) }
        return e.map { Errno.Code($0) }
    }

    static func fileStatus(_ fd: Int32) -> Result<stat, Errno.Code> {
        var st = stat()
        return fstat(fd, &st) == 0 ? .success(st) : .failure(Errno.Code(errno))
    }
}

extension Errno {
    /// An errno value carried as an error.
    struct Code: Error, Sendable {
        let value: Int32
        init(_ value: Int32) { self.value = value }
    }
}

/// What kind of entry a `stat` describes, as the ops report it.
enum EntryType: String {
    case file, dir, symlink, other

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .file
        case S_IFDIR: self = .dir
        case S_IFLNK: self = .symlink
        default: self = .other
        }
    }

    /// The size reported: bytes for files and symlinks (the target's length), 0 for the rest, whose
    /// st_size depends on the filesystem.
    func reportedSize(_ st: stat) -> Int64 {
        switch self {
        case .file, .symlink: Int64(st.st_size)
        case .dir, .other: 0
        }
    }
}

extension FileIO {
    /// Why a stream stopped early.
    enum StreamStop: Error {
        case failed(Errno.Code)
        case overLimit
    }

    /// Reads `fd` to its end in 256 KiB chunks, handing each to `body`; stops when more than `limit`
    /// bytes arrive or `body` returns an errno. Returns the byte count.
    static func stream(_ fd: Int32, limit: Int, _ body: (ArraySlice<UInt8>) -> Errno.Code?) -> Result<Int, StreamStop> {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var total = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.failed(Errno.Code(errno)))
            }
            if n == 0 { return .success(total) }
            total += n
            if total > limit { return .failure(.overLimit) }
            if let e = body(chunk[0..<n]) { return .failure(.failed(e)) }
        }
    }
}
