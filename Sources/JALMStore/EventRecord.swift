import JALMWire

/// One event of an execution's history as the journal keeps it. The journal does not interpret events: the
/// engine names their kinds and payloads (`JALMEngine/ExecutionEvent+Record.swift`); the journal keeps them
/// in order, append-only, and hands them back for a fold.
public struct EventRecord: Sendable, Hashable {
    /// 1, 2, 3, … within one execution, without gaps.
    public var seq: Int
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// What happened, e.g. `step.ok`.
    public var kind: String
    /// The plan node it concerns (a step id), if any.
    public var address: String?
    public var attempt: Int?
    /// The rest of the event, compact JSON; nil when there is none.
    public var payload: JSONValue?

    public init(seq: Int, at: Int64, kind: String, address: String? = nil, attempt: Int? = nil,
                payload: JSONValue? = nil) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.address = address
        self.attempt = attempt
        self.payload = payload
    }
}
