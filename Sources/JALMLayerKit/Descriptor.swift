#if canImport(Glibc)
import Glibc
#endif

/// Blocking writes on a descriptor, shared by the frame writer and the layers that own descriptors
/// (io-file's files, compute-script's zygote socket).
public enum Descriptor {
    /// Writes every byte, retrying on EINTR and short counts; returns the errno of the first failure.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return nil
    }
}
