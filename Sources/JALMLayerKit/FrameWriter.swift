#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMWire

/// Writes frames to the kernel from any thread. Concurrent writers coalesce: whoever finds the
/// socket busy leaves its bytes for the current writer, so a burst of replies costs few syscalls.
final class FrameWriter: Sendable {
    private struct State: ~Copyable {
        var pending: [UInt8] = []
        var writing = false
        var broken = false
    }

    private let fd: Int32
    private let state = Mutex(State())

    init(fd: Int32) { self.fd = fd }

    func send(_ message: LayerMessage) {
        var bytes: [UInt8] = []
        message.encodeFrame(into: &bytes)
        send(bytes: bytes)
    }

    func send(bytes: [UInt8]) {
        var chunk = state.withLock { s -> [UInt8]? in
            if s.broken { return nil }
            if s.writing { s.pending.append(contentsOf: bytes); return nil }
            s.writing = true
            return bytes
        }
        while let c = chunk {
            let ok = writeAll(c)
            chunk = state.withLock { s -> [UInt8]? in
                if !ok { s.broken = true; s.writing = false; return nil }
                if s.pending.isEmpty { s.writing = false; return nil }
                let next = s.pending
                s.pending = []
                return next
            }
        }
    }

    /// Returns when no thread is writing and nothing is pending (or the socket broke).
    func waitUntilIdle() {
        while state.withLock({ $0.writing || (!$0.pending.isEmpty && !$0.broken) }) { usleep(200) }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Descriptor.writeAll(fd, $0) == nil }
    }
}
