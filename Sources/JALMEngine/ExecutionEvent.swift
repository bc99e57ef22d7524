import JALMCore
import JALMWire

/// Who answered a call: the process and its plugin's version, shown with each attempt.
public struct Receipt: Sendable, Hashable {
    public var pid: Int?
    public var version: String?

    public init(pid: Int? = nil, version: String? = nil) {
        self.pid = pid
        self.version = version
    }
}

/// What happened to an execution: the vocabulary of its history. The machine changes its state only by
/// applying these, whether it decides them live or reads them back after a crash, so the two cannot differ.
public enum ExecutionEvent: Sendable, Hashable {
    /// Accepted: the capsule is in the journal. `startsNow`: it started at once (today, always: no queue
    /// stands between acceptance and the first step; one `started` event would repeat the same instant).
    /// `dryRun`: its write and external steps are previewed by their layers, not performed (kept here, so
    /// that a restart resumes it as a dry run).
    case submitted(startsNow: Bool, dryRun: Bool = false)
    /// A submission that waited (in a queue, or across a restart) has started.
    case started
    /// A block began: a switch with the case it chose (nil: none held and it has no default), a foreach
    /// with its items (journaled, so that a restart iterates the same list), a parallel.
    case blockStarted(step: StepRef, choice: Int?, items: [JSONValue]?)
    /// The step's `when:` was false.
    case stepSkipped(step: StepRef)
    /// An attempt was sent to its layer (journaled for `write`/`external` steps; see `PlanStep`).
    case stepDispatched(step: StepRef, attempt: Int)
    /// An attempt returned an output.
    case stepSucceeded(step: StepRef, attempt: Int, dispatchedAt: Int64, receipt: Receipt, output: JSONValue)
    /// An attempt failed (`state`: error, timed_out or cancelled). `retryAt` is when the next attempt is
    /// due, decided when the failure arrived; nil when the step failed for good. `continues`: it failed for
    /// good and the execution goes on (`on_error: continue`), decided with the failure too. `dispatchedAt`
    /// is nil when the call never reached a layer (its input could not be rendered, its condition failed).
    /// `fallback`: it failed for good and its `on_error` fallback sequence runs in its place.
    case stepFailed(step: StepRef, attempt: Int, state: StepRunState, dispatchedAt: Int64?, receipt: Receipt,
                    error: RunnerError, retryAt: Int64?, continues: Bool = false, fallback: Bool = false)
    /// A step's fallback sequence ended: ok with the output that stands in for the step's, or failed with
    /// the error of the step in it that failed.
    case fallbackEnded(step: StepRef, output: JSONValue?, error: RunnerError?)
    /// The execution is to end `state` with `error`, once the compensations of the steps that ended ok have
    /// run, newest first.
    case compensating(state: ExecutionState, error: RunnerError?)
    /// An attempt of a step that is safe to repeat was in flight when jalmd stopped; it runs again.
    case stepInterrupted(step: StepRef, attempt: Int)
    /// An attempt of a step that is not safe to repeat was in flight when jalmd stopped: it may or may not
    /// have happened.
    case stepUnknown(step: StepRef, attempt: Int, error: RunnerError)
    case cancelRequested
    /// The execution ran past its `meta.timeout`: what runs is stopped, and it ends failed with `timeout`.
    case deadlinePassed
    /// The end: `completed`, `failed` or `cancelled`.
    case finished(state: ExecutionState, error: RunnerError?)
}

/// An event with its place in the history and its time.
public struct JournalEntry: Sendable, Hashable {
    public var seq: Int
    public var at: Int64
    public var event: ExecutionEvent

    public init(seq: Int, at: Int64, event: ExecutionEvent) {
        self.seq = seq
        self.at = at
        self.event = event
    }
}
