#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import JALMPlatform
import JALMWire

/// One plugin process's side of the protocol: a reader loop on the kernel socket, calls run as tasks,
/// replies through a coalescing writer.
final class LayerServer: Sendable {
    let layer: String
    let version: String
    let setup: LayerSetup
    let handler: any LayerHandler
    let writer: FrameWriter

    private struct State: ~Copyable {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var draining = false
    }
    private let state = Mutex(State())

    init(layer: String, version: String, setup: LayerSetup, handler: any LayerHandler) {
        self.layer = layer
        self.version = version
        self.setup = setup
        self.handler = handler
        self.writer = FrameWriter(fd: setup.fd)
    }

    func run() async -> Never {
        let hello = Hello(layer: layer, version: version, ops: LayerKit.systemOps + handler.ops,
                          pid: getpid(), maxInflight: setup.maxInflight)
        writer.send(.hello(hello))
        // The read loop blocks in read(2), so it gets a thread of its own rather than a pool thread.
        let started = OSThread.startDetached { self.readLoop() }
        precondition(started, "cannot start the frame reader thread")
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Reads frames until EOF; on EOF the kernel is gone and the plugin exits (DESIGN.md: Transport).
    private func readLoop() -> Never {
        var decoder = FrameDecoder(maxFrameSize: setup.maxFrameSize)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(setup.fd, $0.baseAddress!, $0.count) }
            if n == 0 { exit(0) }
            if n < 0 {
                if errno == EINTR { continue }
                exit(0)
            }
            decoder.append(buffer[0..<n])
            // Replies made on this thread (sys.echo, pong) for one read go out in one write.
            var replies: [UInt8] = []
            do {
                while try decoder.withNext({ body in try self.dispatch(body, replies: &replies) }) != nil {}
                if !replies.isEmpty { writer.send(bytes: replies) }
            } catch {
                printToStandardError("\(layer): protocol error from kernel: \(error)")
                exit(76)
            }
        }
    }

    /// Handles one kernel message; replies made on the reader thread are appended to `replies`.
    private func dispatch(_ body: UnsafeBufferPointer<UInt8>, replies: inout [UInt8]) throws {
        switch try KernelMessage.decode(body) {
        case .call(let call):
            // sys.echo answers on the reader thread: it is the round-trip probe, and a task would only add a hop.
            if call.op == "sys.echo" {
                encodeReply(.ok(id: call.id, output: call.input, meta: nil), to: call.id, into: &replies)
            } else {
                start(call)
            }
        case .cancel(let id): state.withLock { $0.tasks[id] }?.cancel()
        case .ping(let seq): LayerMessage.pong(seq: seq).encodeFrame(into: &replies)
        case .pong: break
        case .drain:
            // Replies made on this thread for frames before the drain go out before the process may exit.
            if !replies.isEmpty { writer.send(bytes: replies); replies = [] }
            beginDrain()
        }
    }

    private func start(_ call: Call) {
        let accepted = state.withLock { s -> Bool in
            if s.draining { return false }
            let task = Task { await self.execute(call) }
            s.tasks[call.id] = task
            return true
        }
        if !accepted {
            writer.send(.err(id: call.id, CallFailure(.layerUnavailable, "\(layer) is draining")))
        }
    }

    private func execute(_ call: Call) async {
        let context = CallContext(
            callID: call.id, deadline: .now + .milliseconds(max(call.deadlineMs, 0)),
            idempotencyKey: call.idempotencyKey, traceID: call.traceID, dryRun: call.dryRun)
        let reply: LayerMessage
        do {
            let output = try await perform(call, context: context)
            reply = .ok(id: call.id, output: output, meta: nil)
        } catch {
            reply = .err(id: call.id, Task.isCancelled && error.code != .cancelled
                ? CallFailure(.cancelled, "cancelled by the kernel") : error)
        }
        self.reply(reply, to: call.id)
        let finishedDrain = state.withLock { s -> Bool in
            s.tasks[call.id] = nil
            return s.draining && s.tasks.isEmpty
        }
        if finishedDrain { exitAfterFlush() }
    }

    /// Sends a reply, or `resource_exhausted` when it would not fit in a frame: an oversize frame would
    /// make the kernel drop the whole connection and every other call on it.
    private func reply(_ message: LayerMessage, to id: UInt64) {
        var bytes: [UInt8] = []
        encodeReply(message, to: id, into: &bytes)
        writer.send(bytes: bytes)
    }

    private func encodeReply(_ message: LayerMessage, to id: UInt64, into bytes: inout [UInt8]) {
        let start = bytes.count
        message.encodeFrame(into: &bytes)
        let size = bytes.count - start - 4
        if size > setup.maxFrameSize {
            bytes.removeSubrange(start...)
            LayerMessage.err(id: id, CallFailure(
                .resourceExhausted,
                "the reply of \(size) bytes exceeds the frame limit of \(setup.maxFrameSize) bytes (max_frame_bytes)",
                details: ["size": .int(Int64(size)), "limit": .int(Int64(setup.maxFrameSize))])
            ).encodeFrame(into: &bytes)
        }
    }

    private func perform(_ call: Call, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch call.op {
        case "sys.sleep": return try await SystemOps.sleep(call.input)
        default: return try await handler.handle(op: call.op, input: call.input, context: context)
        }
    }

    private func beginDrain() {
        let idle = state.withLock { s -> Bool in
            s.draining = true
            return s.tasks.isEmpty
        }
        if idle { exitAfterFlush() }
    }

    /// Exits once every reply handed to the writer is on the socket: another thread may still be writing
    /// a batch that holds one (the writer coalesces), and exiting then would lose a finished call's reply.
    private func exitAfterFlush() -> Never {
        writer.waitUntilIdle()
        exit(0)
    }
}
