#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMPlatform

/// Writes frames without ever blocking a pool thread: the caller tries a non-blocking send; what the
/// socket does not take waits in a bounded queue that a helper thread flushes when the socket drains.
/// Concurrent senders coalesce into one writer, so a burst of calls costs few syscalls.
final class ChannelWriter: Sendable {
    private struct State: ~Copyable {
        var pending: [UInt8] = []
        var writing = false
        var stalled = false
        var broken = false
        var stopped = false
    }

    private let fd: Int32
    private let limit: Int
    private let state = Mutex(State())

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
    }

    /// Queues `bytes`; false if the connection is broken or the queue would pass its limit.
    func send(_ bytes: [UInt8]) -> Bool {
        switch enqueue(bytes) {
        case .refused: return false
        case .queued: return true
        case .write(let chunk):
            write(chunk)
            return true
        }
    }

    enum Enqueued {
        case refused
        /// Another sender is writing: it writes these bytes too, in order.
        case queued
        /// The caller is the writer now: it must `write` this chunk (outside any lock of its own).
        case write([UInt8])
    }

    /// Puts `bytes` in line without a syscall, so that a caller can order frames under its own lock and
    /// write after releasing it.
    func enqueue(_ bytes: [UInt8]) -> Enqueued {
        state.withLock { s -> Enqueued in
            if s.broken { return .refused }
            if s.writing || s.stalled {
                if s.pending.count + bytes.count > limit { s.broken = true; return .refused }
                s.pending.append(contentsOf: bytes)
                return .queued
            }
            s.writing = true
            return .write(bytes)
        }
    }

    /// Writes `chunk` and whatever was queued behind it.
    func write(_ chunk: [UInt8]) { drain(startingWith: chunk) }

    /// Writes until the queue is empty or the socket is full; in the latter case hands over to the flusher.
    private func drain(startingWith first: [UInt8]) {
        var chunk = first
        while true {
            let written = writeNonBlocking(chunk)
            if written < 0 {
                state.withLock { $0.broken = true; $0.writing = false }
                return
            }
            let rest = written < chunk.count ? Array(chunk[written...]) : []
            let next = state.withLock { s -> [UInt8]? in
                if !rest.isEmpty {
                    s.pending.insert(contentsOf: rest, at: 0)
                    s.writing = false
                    s.stalled = true
                    return nil
                }
                if s.pending.isEmpty { s.writing = false; return nil }
                let n = s.pending
                s.pending = []
                return n
            }
            if !rest.isEmpty { startFlusher(); return }
            guard let next else { return }
            chunk = next
        }
    }

    /// Bytes written, or -1 on a broken socket. Stops early (returning fewer) on EAGAIN.
    private func writeNonBlocking(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK { return offset }
                    return -1
                }
                offset += n
            }
            return offset
        }
    }

    private func startFlusher() {
        let started = OSThread.startDetached { [self] in
            while true {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let r = poll(&p, 1, 1000)
                if state.withLock({ $0.stopped || $0.broken }) { return }
                if r <= 0 { continue }
                let chunk = state.withLock { s -> [UInt8] in
                    let c = s.pending
                    s.pending = []
                    return c
                }
                let written = writeNonBlocking(chunk)
                let done = state.withLock { s -> Bool in
                    if written < 0 { s.broken = true; return true }
                    if written < chunk.count { s.pending.insert(contentsOf: chunk[written...], at: 0); return false }
                    if s.pending.isEmpty { s.stalled = false; return true }
                    return false
                }
                if done { return }
            }
        }
        precondition(started, "cannot start a channel flusher thread")
    }

    func stop() {
        state.withLock { $0.stopped = true; $0.broken = true }
    }
}
