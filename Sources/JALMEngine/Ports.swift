import JALMCore
import JALMWire

/// The engine's ports: what the runner needs from the world, as protocols, so that the kernel wires the
/// real ones (supervisors, the timer thread, the secret store) and the tests fakes.

/// One call of an op on a layer.
public struct LayerCall: Sendable, Hashable {
    public var layer: String
    public var op: String
    public var input: JSONValue
    public var timeout: Duration
    public var idempotencyKey: String?
    /// The execution id, so that a plugin's logs can be tied to it.
    public var traceID: String?
    /// A dry run: the layer previews a write or external op instead of performing it.
    public var dryRun: Bool

    public init(layer: String, op: String, input: JSONValue, timeout: Duration, idempotencyKey: String? = nil,
                traceID: String? = nil, dryRun: Bool = false) {
        self.dryRun = dryRun
        self.layer = layer
        self.op = op
        self.input = input
        self.timeout = timeout
        self.idempotencyKey = idempotencyKey
        self.traceID = traceID
    }
}

/// How a call ended, and who answered it.
public struct LayerReply: Sendable {
    public enum Outcome: Sendable {
        case ok(JSONValue)
        case failed(CallFailure)
    }
    public var outcome: Outcome
    public var receipt: Receipt

    public init(_ outcome: Outcome, receipt: Receipt = Receipt()) {
        self.outcome = outcome
        self.receipt = receipt
    }
}

/// A call in flight, to cancel it.
public struct CallHandle: Sendable {
    private let cancelAction: @Sendable () -> Void
    public init(cancel: @escaping @Sendable () -> Void) { cancelAction = cancel }
    /// Asks the layer to stop the call; its reply (a `cancelled` failure, or what it had) still comes.
    public func cancel() { cancelAction() }
}

/// The layers: the supervisors, in production.
public protocol LayerDispatch: Sendable {
    /// Sends `call` to a process of its layer (waiting for a free one within the call's timeout) and runs
    /// `completion` exactly once, on any thread, with how it ended. Never blocks.
    func dispatch(_ call: LayerCall, completion: @escaping @Sendable (LayerReply) -> Void) -> CallHandle
    /// The ops a capsule may name now, as "layer.op".
    var announcedOps: Set<String> { get }
    /// Moves on whenever `announcedOps` may have changed (a process greeted or went, a swap).
    var announcedOpsGeneration: UInt64 { get }
}

/// Where `{{ secrets.NAME }}` comes from, read at each step so that a rotated secret applies at once.
public protocol SecretSource: Sendable {
    func value(of name: String) throws(RunnerError) -> String
}

/// Deadlines: retries and `?wait=` limits, without a sleeping thread or task each.
public protocol TimerPort: Sendable {
    /// Runs `action` after `delay`, on the timer's own thread; keep it short. Returns a cancel.
    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> @Sendable () -> Void
}
