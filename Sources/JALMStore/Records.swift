import JALMWire

/// One row of `executions`: a submitted capsule and how far it got.
public struct ExecutionRecord: Sendable, Hashable {
    public var id: String
    public var intent: String
    /// `pending`, `running`, `completed`, `failed` or `cancelled`.
    public var state: String
    /// The capsule JSON exactly as submitted.
    public var capsule: String
    /// Milliseconds since the Unix epoch, as every time in the store.
    public var createdAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// The `RunnerError` JSON that ended the execution, if it failed.
    public var error: JSONValue?
    public var priority: Int

    public init(id: String, intent: String, state: String, capsule: String, createdAt: Int64,
                startedAt: Int64? = nil, finishedAt: Int64? = nil, error: JSONValue? = nil, priority: Int = 0) {
        self.id = id
        self.intent = intent
        self.state = state
        self.capsule = capsule
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.priority = priority
    }
}

/// One row of `step_runs`: one attempt of one step, rewritten as it goes queued → dispatched → finished.
public struct StepRunRecord: Sendable, Hashable {
    public var executionID: String
    /// Position of the step in the capsule, from 0.
    public var stepIndex: Int
    public var stepID: String
    /// From 1; with `executionID` and `stepIndex`, the primary key.
    public var attempt: Int
    public var layer: String
    public var op: String
    /// `none`, `read`, `write` or `external`.
    public var sideEffect: String
    /// `queued`, `dispatched`, `ok`, `error`, `timed_out`, `cancelled`, `skipped` or `unknown`.
    public var state: String
    public var input: JSONValue?
    public var output: JSONValue?
    public var error: JSONValue?
    public var queuedAt: Int64
    public var dispatchedAt: Int64?
    public var finishedAt: Int64?
    public var layerPID: Int?
    public var pluginVersion: String?
    public var idempotencyKey: String?

    public init(executionID: String, stepIndex: Int, stepID: String, attempt: Int, layer: String, op: String,
                sideEffect: String, state: String, input: JSONValue? = nil, output: JSONValue? = nil,
                error: JSONValue? = nil, queuedAt: Int64, dispatchedAt: Int64? = nil, finishedAt: Int64? = nil,
                layerPID: Int? = nil, pluginVersion: String? = nil, idempotencyKey: String? = nil) {
        self.executionID = executionID
        self.stepIndex = stepIndex
        self.stepID = stepID
        self.attempt = attempt
        self.layer = layer
        self.op = op
        self.sideEffect = sideEffect
        self.state = state
        self.input = input
        self.output = output
        self.error = error
        self.queuedAt = queuedAt
        self.dispatchedAt = dispatchedAt
        self.finishedAt = finishedAt
        self.layerPID = layerPID
        self.pluginVersion = pluginVersion
        self.idempotencyKey = idempotencyKey
    }
}

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
