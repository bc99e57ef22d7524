#if canImport(Glibc)
import Glibc
#endif
import Logging
import JALMPlatform

/// Reads a plugin's stderr line by line into the kernel's log under the layer's name.
enum StderrPump {
    /// Returns the write end to hand to the child, or -1.
    static func start(layer: String, logger: Logger) -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let readEnd = fds[0]
        let started = OSThread.startDetached {
            var pending: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: buf[0..<n])
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<nl], as: UTF8.self)
                    pending.removeSubrange(...nl)
                    logger.notice("plugin stderr", metadata: ["layer.name": "\(layer)", "plugin.line": "\(line)"])
                }
                if pending.count > 64 * 1024 { pending.removeAll() }  // a line that long is not worth keeping
            }
            close(readEnd)
        }
        precondition(started, "cannot start the stderr pump thread of \(layer)")
        return fds[1]
    }
}
