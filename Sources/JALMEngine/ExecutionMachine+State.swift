import JALMCore
import JALMWire

extension ExecutionMachine {
    /// Everything the machine knows about one execution: the fold of its events.
    public struct State: Sendable, Hashable {
        public var phase: Phase = .pending
        public var createdAt: Int64?
        public var startedAt: Int64?
        public var finishedAt: Int64?
        /// The steps outside any foreach, by their index in the plan.
        public var steps: [StepProgress]
        /// The runs of steps inside a foreach, by instance.
        public var looped: [StepRef: StepProgress] = [:]
        /// What the blocks that started hold: a switch's case, a foreach's items and iterations.
        public var blocks: [StepRef: BlockProgress] = [:]
        /// The steps whose attempt is out, waiting for the journal or waiting for a retry.
        public var inFlight: Set<StepRef> = []
        /// Why the execution is being stopped, once something asked: the first of a cancel or the deadline.
        public var stop: Stop?
        /// The runs of steps with a `compensate:` that ended ok, in the order they ended: what is undone, in
        /// reverse, when the execution fails.
        public var compensable: [StepRef] = []
        /// How the execution ends once its compensations have run; set when they start.
        public var compensating: Ending?
        /// A dry run: write and external steps are previewed, not performed.
        public var dryRun = false
        /// A cancel was asked (and came before any deadline).
        public var cancelRequested: Bool { stop == .cancel }
        /// The seq of the last event applied (journaled or not yet).
        public var lastSeq = 0
        /// Every event up to this seq is on disk.
        public var durableSeq = 0

        init(stepCount: Int) {
            steps = Array(repeating: StepProgress(), count: stepCount)
        }

        /// Attempts started so far, over every step (what `meta.max_steps` counts); a skip is not one, and
        /// neither is a block (its steps count).
        public var stepRuns: Int = 0

        /// One run of a step; changed in place (`_modify`), so that an event does not copy its attempts.
        public subscript(_ ref: StepRef) -> StepProgress {
            get { ref.path.isEmpty ? steps[ref.node] : looped[ref] ?? StepProgress() }
            _modify {
                if ref.path.isEmpty {
                    yield &steps[ref.node]
                } else {
                    yield &looped[ref, default: StepProgress()]
                }
            }
        }

        /// Where one run of a step is, read without copying its attempts.
        public func status(of ref: StepRef) -> StepStatus {
            ref.path.isEmpty ? steps[ref.node].status : looped[ref]?.status ?? .pending
        }

        /// Where a run's fallback is, read without copying its attempts (every settle of a block asks).
        public func fallback(of ref: StepRef) -> FallbackState? {
            ref.path.isEmpty ? steps[ref.node].fallback : looped[ref]?.fallback
        }
    }

    /// A block that started.
    public struct BlockProgress: Sendable, Hashable {
        /// A switch's case (nil: none).
        public var choice: Int?
        /// A foreach's items.
        public var items: [JSONValue] = []
        /// Iterations that started (they start in order): the next one to start is this.
        public var launched = 0
        /// Iterations started and not ended.
        public var active: Set<Int> = []
        /// Iterations that ended ok, and that failed.
        public var done = 0
        public var failed = 0
        /// A paged foreach: its items are the pages fetched so far (an ended iteration's page is let go of,
        /// null), `pages` more may come until `exhausted`; the next page starts at `cursor`.
        public var exhausted = false
        public var cursor: JSONValue?
        /// A paged foreach: the rows of every page so far, and the iterations let go of once ended ok.
        public var rows = 0
        public var pruned: Set<Int> = []
    }

    /// The end an execution that compensates comes to.
    public struct Ending: Sendable, Hashable {
        public var state: ExecutionState
        public var error: RunnerError?
    }

    /// What stops an execution before its steps are done.
    public enum Stop: Sendable, Hashable {
        /// Someone cancelled it: it ends `cancelled`.
        case cancel
        /// It ran past `meta.timeout`: it ends `failed` with `timeout`.
        case deadline
    }

    public enum Phase: Sendable, Hashable {
        case pending
        case running
        case finished(ExecutionState, RunnerError?)

        public var state: ExecutionState {
            switch self {
            case .pending: .pending
            case .running: .running
            case .finished(let s, _): s
            }
        }

        public var isFinished: Bool { if case .finished = self { true } else { false } }
    }

    /// Where one step is.
    public enum StepStatus: Sendable, Hashable {
        case pending
        case skipped
        /// The dispatch of `attempt` is journaled and waits until it is on disk before the call goes out.
        case awaitingJournal(attempt: Int)
        case running(attempt: Int)
        /// `attempt` failed; the next one is due at `at`.
        case retrying(attempt: Int, at: Int64)
        case ok
        /// Ended without an output: failed, timed out, cancelled or unknown (the last attempt says which).
        case failed
        /// Failed for good under `on_error: continue`: ended without an output, and the execution went on.
        case continued
        /// A block that started and has not ended: its steps run. Or a step whose fallback runs.
        case open

        /// Ended: the sequence it is in goes on past it (or, `failed`, stops there).
        public var isEnded: Bool { self == .ok || self == .skipped || self == .continued || self == .failed }
        /// Ended in a way that lets its sequence go on.
        public var letsSequenceOn: Bool { self == .ok || self == .skipped || self == .continued }
    }

    public struct StepProgress: Sendable, Hashable {
        public var status: StepStatus = .pending
        public var attempts: [Attempt] = []
        public var output: JSONValue?
        /// Where its `on_error` fallback is, once the step failed for good and it started.
        public var fallback: FallbackState?

        /// The number the next attempt gets: attempts are numbered for the step's whole life, so a restart
        /// does not renew its retry budget.
        var nextAttempt: Int { (attempts.last?.number ?? 0) + 1 }

        mutating func update(_ number: Int, _ change: (inout Attempt) -> Void) {
            if let i = attempts.lastIndex(where: { $0.number == number }) {
                change(&attempts[i])
            } else {
                var a = Attempt(number: number)
                change(&a)
                attempts.append(a)
            }
        }
    }

    /// A step's fallback sequence: running, or ended ok (its output is the step's) or failed with this error.
    public enum FallbackState: Sendable, Hashable {
        case running
        case ok
        case failed(RunnerError)
    }

    /// One attempt of a step, as `GET /exec/{id}` shows it.
    public struct Attempt: Sendable, Hashable {
        public var number: Int
        public var state: StepRunState = .queued
        public var dispatchedAt: Int64?
        public var finishedAt: Int64?
        public var receipt = Receipt()
        public var error: RunnerError?
    }
}
