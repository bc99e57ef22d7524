import JALMCore
import JALMWire

/// An execution of a schema-1 journal (one row per step attempt, no events), as the upgrade to schema 2
/// reads it. The engine turns it into events (`JALMEngine/LegacyUpgrade.swift`): the journal stores events
/// but does not know their kinds.
public struct LegacyExecution: Sendable, Hashable {
    public var id: String
    public var intent: String
    public var state: String
    public var capsule: String
    public var createdAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var error: JSONValue?
    /// By step index, then attempt.
    public var runs: [LegacyStepRun]
}

/// One row of schema 1's `step_runs`.
public struct LegacyStepRun: Sendable, Hashable {
    public var stepIndex: Int
    public var stepID: String
    public var attempt: Int
    public var sideEffect: String
    public var state: String
    public var output: JSONValue?
    public var error: JSONValue?
    public var queuedAt: Int64
    public var dispatchedAt: Int64?
    public var finishedAt: Int64?
    public var layerPID: Int?
    public var pluginVersion: String?
}

/// Turns a schema-1 execution into its history and summary.
public typealias LegacyUpgrade = @Sendable (LegacyExecution) -> (events: [EventRecord], summary: ExecutionSummary)
