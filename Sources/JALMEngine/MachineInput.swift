import JALMCore
import JALMStore
import JALMWire

/// What the runtime tells the machine. Every input carries the time it happened (ms since the epoch): the
/// machine reads no clock and draws no random numbers of its own.
public enum MachineInput: Sendable, Hashable {
    /// A new execution, just accepted. `acknowledge`: the submitter waits to be told once it is durable
    /// (`POST /exec` without `?wait`), so the submission is journaled durably at once.
    case start(acknowledge: Bool, at: Int64)
    /// A call came back. `jitter` is a random number in 0..<1 for the retry delay, drawn by the runtime so
    /// that the decision can be journaled and replayed.
    case stepReturned(step: StepRef, attempt: Int, outcome: StepOutcome, jitter: Double, at: Int64)
    /// A retry's timer fired.
    case retryDue(step: StepRef, attempt: Int, at: Int64)
    case cancel(at: Int64)
    /// The execution's deadline (`meta.timeout` after its start) came.
    case deadline(at: Int64)
    /// Every event up to `seq` is on disk.
    case journaled(upTo: Int, at: Int64)
    /// jalmd restarted; the state is the fold of the journal. Carry on from there.
    case recovered(at: Int64)
}

/// How a call ended, as the layer (or the runtime preparing it) said.
public enum StepOutcome: Sendable, Hashable {
    case ok(JSONValue, Receipt)
    case failed(RunnerError, Receipt)
    /// The call never went out: its input could not be rendered or checked, or a secret is missing. The
    /// error points into the capsule.
    case refused(RunnerError)
}

/// What the machine asks the runtime to do, in order.
public enum MachineCommand: Sendable, Hashable {
    case journal([JournalEntry], Durability)
    /// Call the step's op (its input rendered from `outputs`, the outputs so far).
    case dispatch(StepCall)
    /// Ask the layer to stop the call of this attempt.
    case cancelCall(step: StepRef, attempt: Int)
    /// Deliver `retryDue(step, attempt)` at `at` (or at once if it has passed).
    case startTimer(step: StepRef, attempt: Int, at: Int64)
    /// Deliver `deadline` at `at` (or at once if it has passed); forget it when the execution ends.
    case startDeadline(at: Int64)
    /// The submission is on disk: tell the submitter.
    case acknowledge
    /// The execution ended and its end is on disk: wake whoever waits, forget it.
    case finished(ExecutionState, RunnerError?)
}

/// One call the machine wants made.
public struct StepCall: Sendable, Hashable {
    public var step: StepRef
    public var attempt: Int
    public var idempotencyKey: String?
    public var timeoutMs: Int64
    public var outputs: [String: JSONValue]
    /// The vars the step sees (the capsule's, and what earlier set steps assigned).
    public var vars: [String: JSONValue]
    /// Inside a foreach: the item and index, by their names.
    public var locals: [String: JSONValue] = [:]
    /// The execution is a dry run: the layer previews a write or external op instead of performing it.
    public var dryRun: Bool = false
    /// Inputs the engine sets over the rendered input (a paged foreach's page): merged, then checked.
    public var inputPatch: JSONValue? = nil
}
