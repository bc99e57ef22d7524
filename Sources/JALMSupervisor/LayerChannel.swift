#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMCore
import JALMPlatform
import JALMWire

/// The kernel's end of one plugin's socketpair: a reader thread that turns frames into events and
/// replies, a coalescing writer, and the table of calls in flight. Calls are multiplexed.
final class LayerChannel: Sendable {
    let fd: Int32
    let layer: String
    let maxFrameSize: Int
    private let onEvent: @Sendable (ChannelEvent) -> Void
    /// Called on the reader thread when the peer closed the socket: says why (reaping the process), so
    /// that the calls in flight fail with the right code (`sandbox_violation` for a seccomp kill, ...).
    private let explainEOF: @Sendable () -> (ErrorCode, String)?
    private let writer: ChannelWriter

    /// A call in flight: who waits for it and when it must end. Deadlines are checked by `sweep`, a few
    /// times per second per layer, so a call costs no timer of its own.
    struct PendingCall {
        /// Runs once with how the call ended (nil: not sent, the process is draining); never under the lock.
        var complete: @Sendable (CallOutcome?) -> Void
        var deadline: ContinuousClock.Instant
        var timeout: Duration
        /// Set when `cancel` went out (deadline passed, or the execution was cancelled).
        var cancelSentAt: ContinuousClock.Instant?
        var expired = false
    }

    private struct State: ~Copyable {
        var phase: PeerPhase = .awaitingHello
        var pending: [UInt64: PendingCall] = [:]
        var closedReason: String?
    }
    private let state = Mutex(State())
    private let nextCallID = Atomic<UInt64>(1)

    init(fd: Int32, layer: String, maxFrameSize: Int,
         explainEOF: @escaping @Sendable () -> (ErrorCode, String)? = { nil },
         onEvent: @escaping @Sendable (ChannelEvent) -> Void) {
        self.fd = fd
        self.layer = layer
        self.maxFrameSize = maxFrameSize
        self.explainEOF = explainEOF
        self.onEvent = onEvent
        self.writer = ChannelWriter(fd: fd, limit: maxFrameSize * 2 + 64 * 1024 * 1024)
    }

    func start() {
        let started = OSThread.startDetached { [self] in self.readLoop() }
        precondition(started, "cannot start the channel reader thread of \(layer)")
    }

    var inflight: Int { state.withLock { $0.pending.count } }

    var isClosed: Bool { state.withLock { $0.closedReason != nil } }

    /// Sends a call; `complete` runs once, on whichever thread ends it (the reader, the sweep, a close, or
    /// this one at once when the call cannot be sent), with the outcome — or nil when the call was not sent
    /// because the process has been told to drain: the caller routes it to another process. Returns the
    /// call's id (for `cancel`), nil when it ended at once. Never blocks.
    @discardableResult
    func send(op: String, input: JSONValue, timeout: Duration, idempotencyKey: String?, traceID: String?, dryRun: Bool = false,
              complete: @escaping @Sendable (CallOutcome?) -> Void) -> UInt64? {
        let id = nextCallID.wrappingAdd(1, ordering: .relaxed).oldValue
        var frame: [UInt8] = []
        KernelMessage.call(Call(id: id, op: op, input: input, deadlineMs: timeout.milliseconds, traceID: traceID,
                                idempotencyKey: idempotencyKey, dryRun: dryRun)).encodeFrame(into: &frame)
        // The plugin would drop the connection on an oversize frame; refuse this one call instead.
        if frame.count - 4 > maxFrameSize {
            complete(.failed(CallFailure(
                .resourceExhausted, "the input of \(op) makes a frame of \(frame.count - 4) bytes, over the "
                    + "limit of \(maxFrameSize) bytes (max_frame_bytes)")))
            return nil
        }
        enum Admission { case sent(ChannelWriter.Enqueued), closed, draining, writeFailed }
        let deadline = ContinuousClock.now + timeout
        // Registered and put in line under the lock that `drain` is put in line under: the plugin sees the
        // call before its drain (and finishes it), or the call is not sent at all. The write itself happens
        // after the lock is released, so the reader thread never waits for a syscall.
        let admission = state.withLock { s -> Admission in
            if s.closedReason != nil { return .closed }
            if s.phase == .draining { return .draining }
            s.pending[id] = PendingCall(complete: complete, deadline: deadline, timeout: timeout)
            let enqueued = writer.enqueue(frame)
            if case .refused = enqueued { return .writeFailed }
            return .sent(enqueued)
        }
        switch admission {
        case .sent(let enqueued):
            if case .write(let chunk) = enqueued { writer.write(chunk) }
            return id
        case .closed: complete(.failed(CallFailure(.layerUnavailable, "\(layer) connection is closed")))
        case .draining: complete(nil)
        case .writeFailed: close(reason: "write to \(layer) failed or its queue is full")
        }
        return nil
    }

    /// `send`, suspending until the call ends (the swap's probe call).
    func call(op: String, input: JSONValue, timeout: Duration) async -> CallOutcome? {
        await withCheckedContinuation { c in
            send(op: op, input: input, timeout: timeout, idempotencyKey: nil, traceID: nil) { c.resume(returning: $0) }
        }
    }

    /// Sends `cancel` for a call the kernel no longer wants (its execution was cancelled).
    func cancel(id: UInt64) {
        let send = state.withLock { s -> Bool in
            guard s.pending[id] != nil, s.pending[id]!.cancelSentAt == nil else { return false }
            s.pending[id]!.cancelSentAt = .now
            return true
        }
        if send { self.send(.cancel(id: id)) }
    }

    /// Checks deadlines: a call past its deadline gets `cancel`; a call still running `grace` after its
    /// cancel is failed here. Returns true when such a call exists, so the caller kills the process.
    func sweep(now: ContinuousClock.Instant, grace: Duration) -> Bool {
        var cancels: [UInt64] = []
        var overdue: [(@Sendable (CallOutcome?) -> Void, CallFailure)] = []
        state.withLock { s in
            for (id, call) in s.pending {
                if let sent = call.cancelSentAt {
                    guard now - sent >= grace else { continue }
                    let why = call.expired ? "step exceeded its timeout of \(call.timeout)" : "cancelled"
                    overdue.append((call.complete, CallFailure(
                        call.expired ? .timeout : .cancelled,
                        "\(why); \(layer) did not stop within \(grace), its process was killed")))
                    s.pending[id] = nil
                } else if now >= call.deadline {
                    s.pending[id]!.expired = true
                    s.pending[id]!.cancelSentAt = now
                    cancels.append(id)
                }
            }
        }
        for id in cancels { send(.cancel(id: id)) }
        for (complete, failure) in overdue { complete(.failed(failure)) }
        return !overdue.isEmpty
    }

    /// Ends one call early with `outcome` (timeouts); false if it had already ended.
    @discardableResult
    func fail(id: UInt64, with failure: CallFailure) -> Bool {
        guard let call = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        call.complete(.failed(failure))
        return true
    }

    func send(_ message: KernelMessage) {
        var frame: [UInt8] = []
        message.encodeFrame(into: &frame)
        let enqueued: ChannelWriter.Enqueued
        if case .drain = message {
            // Under the same lock as a call's admission: no call frame can follow the drain frame.
            enqueued = state.withLock { s in
                s.phase = .draining
                return writer.enqueue(frame)
            }
        } else {
            enqueued = writer.enqueue(frame)
        }
        switch enqueued {
        case .refused: close(reason: "write to \(layer) failed")
        case .queued: break
        case .write(let chunk): writer.write(chunk)
        }
    }

    /// Fails every call in flight and shuts the socket down; the reader thread then reports `closed`.
    func close(reason: String, code: ErrorCode = .layerUnavailable) {
        let pending = state.withLock { s -> [@Sendable (CallOutcome?) -> Void] in
            if s.closedReason == nil { s.closedReason = reason }
            let p = s.pending.values.map(\.complete)
            s.pending.removeAll()
            return p
        }
        let failure = CallFailure(code, "\(layer): \(reason)")
        for complete in pending { complete(.failed(failure)) }
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
        if existing == nil, let (code, why) = explainEOF() {
            reason = why
            close(reason: reason, code: code)
        } else {
            close(reason: existing ?? reason, code: existing == nil ? .layerUnavailable : .protocolError)
        }
        writer.stop()
        Glibc.close(fd)
        onEvent(.closed(reason: existing ?? reason))
    }

    /// Handles one frame; returns a violation description, or nil when all is well.
    private func receive(_ body: UnsafeBufferPointer<UInt8>) throws -> String? {
        let message = try LayerMessage.decode(body)
        // One lock for the check and, for a reply, taking its call: the hot path of every call.
        let (verdict, call) = state.withLock { s -> (PeerPolicy.Verdict, PendingCall?) in
            let verdict = PeerPolicy.check(message, in: s.phase, expectedLayer: layer,
                                           knownCall: { s.pending[$0] != nil })
            guard verdict == .accept else { return (verdict, nil) }
            switch message {
            case .hello: s.phase = .ready
            case .ok(let id, _, _), .err(let id, _): return (verdict, s.pending.removeValue(forKey: id))
            default: break
            }
            return (verdict, nil)
        }
        if case .violation(let why) = verdict { return why }
        switch message {
        case .hello(let h):
            onEvent(.hello(h))
        case .ok(_, let output, let meta):
            call?.complete(.ok(output: output, meta: meta))
        case .err(_, var failure):
            guard let call else { break }
            // The plugin says "cancelled" when it honours the cancel a deadline sent: to the step that is a timeout.
            if call.expired && failure.code == .cancelled {
                failure = CallFailure(.timeout, "step exceeded its timeout of \(call.timeout)")
            }
            call.complete(.failed(failure))
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
