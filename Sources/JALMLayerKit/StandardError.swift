#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to fd 2, which the kernel captures into its log under the layer's name.
public func printToStandardError(_ line: String) {
    var bytes = Array(line.utf8)
    if bytes.last != 0x0A { bytes.append(0x0A) }
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
}
