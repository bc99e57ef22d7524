import JALMWire

/// How one call to a layer ended, as the engine sees it.
public enum CallOutcome: Sendable {
    case ok(output: JSONValue, meta: JSONValue?)
    case failed(CallFailure)
}

/// What a connection reports to its owner.
enum ChannelEvent: Sendable {
    case hello(Hello)
    case pong(seq: UInt64)
    case log(LogRecord)
    /// The connection is over; every call in flight on it has already been failed.
    case closed(reason: String)
}
