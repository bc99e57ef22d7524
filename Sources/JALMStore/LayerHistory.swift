import JALMCore
import JALMWire

/// One row of `layer_events`: a restart, quarantine or swap of a layer, for `jalm layers`.
public struct LayerEventRecord: Sendable, Hashable {
    public var at: Int64
    public var layer: String
    public var event: String
    public var detail: JSONValue?

    public init(at: Int64, layer: String, event: String, detail: JSONValue? = nil) {
        self.at = at
        self.layer = layer
        self.event = event
        self.detail = detail
    }
}

/// The history of the layers (restarts, quarantines, swaps), kept beside the executions.
public protocol LayerHistory: Sendable {
    /// Queues the event; it commits with the next group.
    func record(_ event: LayerEventRecord)
    /// The latest `limit` events, newest first, optionally of one layer.
    func layerEvents(layer: String?, limit: Int) throws(RunnerError) -> [LayerEventRecord]
}
