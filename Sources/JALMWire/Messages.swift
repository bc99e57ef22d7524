/// The protocol version this build speaks; a `hello` with another version is refused.
public let wireProtocolVersion = 1

/// A layer's greeting: who it is and what it can do.
public struct Hello: Sendable, Equatable {
    public var layer: String
    public var version: String
    public var ops: [String]
    public var protocolVersion: Int
    public var pid: Int32
    public var maxInflight: Int

    public init(layer: String, version: String, ops: [String], protocolVersion: Int = wireProtocolVersion,
                pid: Int32, maxInflight: Int) {
        self.layer = layer
        self.version = version
        self.ops = ops
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.maxInflight = maxInflight
    }
}

/// One op invocation sent to a layer.
public struct Call: Sendable, Equatable {
    public var id: UInt64
    public var op: String
    public var input: JSONValue
    /// Milliseconds the layer has before the kernel cancels the call.
    public var deadlineMs: Int64
    public var traceID: String?
    public var idempotencyKey: String?
    public var dryRun: Bool

    public init(id: UInt64, op: String, input: JSONValue, deadlineMs: Int64, traceID: String? = nil,
                idempotencyKey: String? = nil, dryRun: Bool = false) {
        self.id = id
        self.op = op
        self.input = input
        self.deadlineMs = deadlineMs
        self.traceID = traceID
        self.idempotencyKey = idempotencyKey
        self.dryRun = dryRun
    }
}

/// The failure a layer reports for one call.
public struct CallFailure: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var retryable: Bool
    public var details: JSONValue?

    public init(_ code: ErrorCode, _ message: String, retryable: Bool? = nil, details: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable ?? code.retryable
        self.details = details
    }
}

/// A log line a layer forwards to the kernel's log (secrets already masked).
public struct LogRecord: Sendable, Equatable {
    public var level: String
    public var message: String
    public var fields: [String: JSONValue]

    public init(level: String, message: String, fields: [String: JSONValue] = [:]) {
        self.level = level
        self.message = message
        self.fields = fields
    }
}

/// What a layer may say to the kernel; one JSON object per frame.
public enum LayerMessage: Sendable, Equatable {
    case hello(Hello)
    case ok(id: UInt64, output: JSONValue, meta: JSONValue?)
    case err(id: UInt64, CallFailure)
    case ping(seq: UInt64)
    case pong(seq: UInt64)
    case log(LogRecord)
}

/// What the kernel may say to a layer.
public enum KernelMessage: Sendable, Equatable {
    case call(Call)
    case cancel(id: UInt64)
    case ping(seq: UInt64)
    case pong(seq: UInt64)
    /// Finish the calls in flight, accept no new ones, exit 0.
    case drain
}

/// A frame that is valid JSON but not a valid message.
public struct MessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
