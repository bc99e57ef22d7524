import JALMWire

/// One event of an execution's history as the journal keeps it. The journal does not interpret events: the
/// engine names their kinds and payloads (`JALMEngine/ExecutionEvent+Record.swift`); the journal keeps them
/// in order, append-only, and hands them back for a fold.
public struct EventRecord: Sendable {
    /// 1, 2, 3, … within one execution, without gaps.
    public var seq: Int
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// What happened, e.g. `step.ok`.
    public var kind: String
    /// The plan node it concerns (a step id), if any.
    public var address: String?
    public var attempt: Int?
    /// The payload as compact JSON text: written by whoever makes the record (so the journal's single writer
    /// thread does not), read as it is stored.
    public var payloadText: [UInt8]?

    public init(seq: Int, at: Int64, kind: String, address: String? = nil, attempt: Int? = nil,
                payload: JSONValue? = nil) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.address = address
        self.attempt = attempt
        self.payload = payload
    }

    public init(seq: Int, at: Int64, kind: String, address: String?, attempt: Int?, payloadText: [UInt8]?) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.address = address
        self.attempt = attempt
        self.payloadText = payloadText
    }

    /// The rest of the event; nil when there is none (or its text is not JSON).
    public var payload: JSONValue? {
        get { payloadText.flatMap { try? JSONParser.parse($0) } }
        set { payloadText = newValue.map { JSONWriter.bytes($0) } }
    }
}

extension EventRecord: Hashable {
    /// Payloads compare as values: the same payload may be written with its keys in another order.
    public static func == (a: EventRecord, b: EventRecord) -> Bool {
        a.seq == b.seq && a.at == b.at && a.kind == b.kind && a.address == b.address && a.attempt == b.attempt
            && a.payload == b.payload
    }

    public func hash(into h: inout Hasher) {
        h.combine(seq)
        h.combine(kind)
        h.combine(address)
    }
}
