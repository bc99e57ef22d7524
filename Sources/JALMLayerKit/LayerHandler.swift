import JALMWire

/// What a plugin implements: one method that runs an op. Everything else (handshake, framing,
/// `sys.echo`, `sys.sleep`, cancel, drain, ping) is LayerKit's.
public protocol LayerHandler: Sendable {
    /// The ops this handler implements, announced in `hello` together with LayerKit's `sys.*` ops.
    var ops: [String] { get }

    /// Runs one op. Throw `CallFailure` with the right code for any failure the caller should see.
    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue
}

/// What a handler knows about the call it is running.
public struct CallContext: Sendable {
    public let callID: UInt64
    /// When the kernel will cancel the call.
    public let deadline: ContinuousClock.Instant
    public let idempotencyKey: String?
    public let traceID: String?
    public let dryRun: Bool

    public init(callID: UInt64, deadline: ContinuousClock.Instant, idempotencyKey: String? = nil,
                traceID: String? = nil, dryRun: Bool = false) {
        self.callID = callID
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
        self.traceID = traceID
        self.dryRun = dryRun
    }

    /// True once the kernel sent `cancel` for this call (the handler runs inside a Task that is cancelled).
    public var isCancelled: Bool { Task.isCancelled }
}
