#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a small configuration file (a CA bundle), or nil; at most 4 MiB.
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while out.count <= 4 * 1024 * 1024 {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return n == 0 ? out : nil }
        out += chunk[0..<n]
    }
    return nil
}
