import JALMWire

/// Which message a layer may send in which phase of its connection. Anything else is a protocol
/// error: the peer is disconnected, its calls fail with `protocol_error`, and it is restarted.
public enum PeerPhase: Sendable, Equatable {
    case awaitingHello, ready, draining
}

public enum PeerPolicy {
    public enum Verdict: Sendable, Equatable {
        case accept
        case violation(String)
    }

    /// - Parameters:
    ///   - knownCall: whether a reply's id names a call in flight on this connection.
    public static func check(_ message: LayerMessage, in phase: PeerPhase, expectedLayer: String,
                             knownCall: (UInt64) -> Bool) -> Verdict {
        switch (phase, message) {
        case (.awaitingHello, .hello(let h)):
            if h.protocolVersion != wireProtocolVersion {
                return .violation("protocol \(h.protocolVersion) is not supported (this kernel speaks \(wireProtocolVersion))")
            }
            if h.layer != expectedLayer {
                return .violation("greeted as layer \"\(h.layer)\", expected \"\(expectedLayer)\"")
            }
            return .accept
        case (.awaitingHello, _):
            return .violation("sent a message before hello")
        case (_, .hello):
            return .violation("sent a second hello")
        case (_, .ok(let id, _, _)), (_, .err(let id, _)):
            return knownCall(id) ? .accept : .violation("replied to unknown call \(id)")
        case (_, .ping), (_, .pong), (_, .log):
            return .accept
        }
    }
}
