#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMCore
import JALMWire

/// The kernel's end of one plugin's socketpair: a reader thread that turns frames into events and
/// replies, a coalescing writer, and the table of calls in flight. Calls are multiplexed.
final class LayerChannel: Sendable {
    let fd: Int32
    let layer: String
    let maxFrameSize: Int
    private let onEvent: @Sendable (ChannelEvent) -> Void
    private let writer: ChannelWriter

    private struct State: ~Copyable {
        var phase: PeerPhase = .awaitingHello
        var pending: [UInt64: CheckedContinuation<CallOutcome, Never>] = [:]
        var nextID: UInt64 = 1
        var closedReason: String?
    }
    private let state = Mutex(State())

    init(fd: Int32, layer: String, maxFrameSize: Int, onEvent: @escaping @Sendable (ChannelEvent) -> Void) {
        self.fd = fd
        self.layer = layer
        self.maxFrameSize = maxFrameSize
        self.onEvent = onEvent
        self.writer = ChannelWriter(fd: fd, limit: maxFrameSize * 2 + 64 * 1024 * 1024)
    }

    func start() {
        OSThread.start { [self] in self.readLoop() }
    }

    var inflight: Int { state.withLock { $0.pending.count } }

    var isClosed: Bool { state.withLock { $0.closedReason != nil } }

    /// Sends a call and suspends until its reply, a failure of the connection, or `fail(id:)`.
    /// `registered` receives the call id before the frame is written (for timers and cancel).
    func call(op: String, input: JSONValue, deadlineMs: Int64, idempotencyKey: String?, traceID: String?,
              registered: (UInt64) -> Void) async -> CallOutcome {
        await withCheckedContinuation { (c: CheckedContinuation<CallOutcome, Never>) in
            let id = state.withLock { s -> UInt64? in
                if s.closedReason != nil { return nil }
                let id = s.nextID
                s.nextID += 1
                s.pending[id] = c
                return id
            }
            guard let id else {
                c.resume(returning: .failed(CallFailure(.layerUnavailable, "\(layer) connection is closed")))
                return
            }
            registered(id)
            var frame: [UInt8] = []
            KernelMessage.call(Call(id: id, op: op, input: input, deadlineMs: deadlineMs, traceID: traceID,
                                    idempotencyKey: idempotencyKey)).encodeFrame(into: &frame)
            if !writer.send(frame) { close(reason: "write to \(layer) failed or its queue is full") }
        }
    }

    /// Ends one call early with `outcome` (timeouts); false if it had already ended.
    @discardableResult
    func fail(id: UInt64, with failure: CallFailure) -> Bool {
        guard let c = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        c.resume(returning: .failed(failure))
        return true
    }

    func isPending(_ id: UInt64) -> Bool { state.withLock { $0.pending[id] != nil } }

    func send(_ message: KernelMessage) {
        var frame: [UInt8] = []
        message.encodeFrame(into: &frame)
        if case .drain = message { state.withLock { $0.phase = .draining } }
        if !writer.send(frame) { close(reason: "write to \(layer) failed") }
    }

    /// Fails every call in flight and shuts the socket down; the reader thread then reports `closed`.
    func close(reason: String, code: ErrorCode = .layerUnavailable) {
        let pending = state.withLock { s -> [CheckedContinuation<CallOutcome, Never>] in
            if s.closedReason == nil { s.closedReason = reason }
            let p = Array(s.pending.values)
            s.pending.removeAll()
            return p
        }
        let failure = CallFailure(code, "\(layer): \(reason)")
        for c in pending { c.resume(returning: .failed(failure)) }
        shutdown(fd, Int32(SHUT_RDWR))
    }

    // MARK: reading

    private func readLoop() {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var reason = "\(layer) closed its socket"
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                reason = "read from \(layer) failed: errno \(errno)"
                break
            }
            decoder.append(buffer[0..<n])
            do {
                while let violation = try decoder.withNext({ try self.receive($0) }) {
                    if let violation {
                        reason = "protocol violation: \(violation)"
                        close(reason: reason, code: .protocolError)
                        break loop
                    }
                }
            } catch {
                reason = "protocol violation: \(error)"
                close(reason: reason, code: .protocolError)
                break
            }
        }
        let existing = state.withLock { $0.closedReason }
        close(reason: existing ?? reason, code: existing == nil ? .layerUnavailable : .protocolError)
        writer.stop()
        Glibc.close(fd)
        onEvent(.closed(reason: existing ?? reason))
    }

    /// Handles one frame; returns a violation description, or nil when all is well.
    private func receive(_ body: UnsafeBufferPointer<UInt8>) throws -> String? {
        let message = try LayerMessage.decode(body)
        let verdict = state.withLock { s in
            PeerPolicy.check(message, in: s.phase, expectedLayer: layer, knownCall: { s.pending[$0] != nil })
        }
        if case .violation(let why) = verdict { return why }
        switch message {
        case .hello(let h):
            state.withLock { $0.phase = .ready }
            onEvent(.hello(h))
        case .ok(let id, let output, let meta):
            state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: .ok(output: output, meta: meta))
        case .err(let id, let failure):
            state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: .failed(failure))
        case .ping(let seq):
            send(.pong(seq: seq))
        case .pong(let seq):
            onEvent(.pong(seq: seq))
        case .log(let record):
            onEvent(.log(record))
        }
        return nil
    }
}
