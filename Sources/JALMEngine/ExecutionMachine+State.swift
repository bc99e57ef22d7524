import JALMCore
import JALMWire

extension ExecutionMachine {
    /// Everything the machine knows about one execution: the fold of its events.
    public struct State: Sendable, Hashable {
        public var phase: Phase = .pending
        public var createdAt: Int64?
        public var startedAt: Int64?
        public var finishedAt: Int64?
        public var steps: [StepProgress]
        /// Why the execution is being stopped, once something asked: the first of a cancel or the deadline.
        public var stop: Stop?
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

        /// Attempts started so far, over every step (what `meta.max_steps` counts); a skip is not one.
        public var stepRuns: Int {
            steps.reduce(0) { $0 + $1.attempts.count { $0.state != .skipped } }
        }

        /// The first step that has not ended ok, skipped or failed-and-continued: where the sequence stands.
        public var cursor: Int {
            steps.firstIndex { $0.status != .ok && $0.status != .skipped && $0.status != .continued } ?? steps.count
        }
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
    }

    public struct StepProgress: Sendable, Hashable {
        public var status: StepStatus = .pending
        public var attempts: [Attempt] = []
        public var output: JSONValue?

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
