import JALMCore
import JALMStore
import JALMWire
import Synchronization

/// An execution the runner holds in memory while it runs: its machine, the inputs waiting for it, the
/// calls in flight and who waits for its end.
///
/// Inputs arrive from any thread (a channel's reader, the timer thread, the journal's writer, an API
/// handler). Whoever delivers an input while no one else is processing becomes the processor: it feeds the
/// machine one input at a time under the lock, and carries out the commands outside it, in order. So the
/// machine runs on the thread that brought its input, with no handoff, and never on two threads at once.
final class LiveExecution: Sendable {
    let header: ExecutionView.Header
    let plan: Plan
    /// The capsule as submitted, stored with the execution.
    let document: [UInt8]
    /// The token this runner writes the execution's events with.
    let owner: FencingToken

    struct State: ~Copyable {
        var machine: ExecutionMachine
        var mailbox: [MachineInput] = []
        var processing = false
        /// The journal holds the execution's row (its first write was made).
        var created: Bool
        /// The summary last written to `executions`.
        var summary: ExecutionSummary?
        var calls: [StepRef: CallHandle] = [:]
        var acknowledgements: [CheckedContinuation<RunnerError?, Never>] = []
        var endWaiters: [UInt64: EndWaiter] = [:]
        /// Set when the end is on disk (or the execution was given up): the state to answer with.
        var ended: ExecutionMachine?
        var abandoned: RunnerError?
        /// Cancels the timer of `meta.timeout`, so that an ended execution holds none.
        var cancelDeadline: (@Sendable () -> Void)?
    }
    let state: Mutex<State>

    /// Someone waiting for the end, and the cancel of the timer that bounds the wait.
    struct EndWaiter {
        var continuation: CheckedContinuation<Void, Never>
        var cancelTimer: (@Sendable () -> Void)?
    }

    init(header: ExecutionView.Header, plan: Plan, document: [UInt8], owner: FencingToken, machine: ExecutionMachine,
         created: Bool) {
        self.header = header
        self.plan = plan
        self.document = document
        self.owner = owner
        self.state = Mutex(State(machine: machine, created: created))
    }

    var id: String { header.id }

    /// The execution as it stands now.
    var snapshot: ExecutionSnapshot {
        ExecutionSnapshot(header, machine: state.withLock { s in s.ended ?? s.machine })
    }
}
