import JALMCore
import JALMStore
import JALMWire

/// A step's life: an attempt goes out, comes back ok or failed, is retried on its rule or ends the run.
extension ExecutionMachine {
    mutating func startAttempt(_ i: StepRef, at: Int64) {
        let step = plan.steps[i.node]
        let n = state[i].nextAttempt
        // A compensation is not held back by the budget: what was done must be undone.
        if let max = plan.capsule.limits.maxStepRuns, state.stepRuns >= max, step.undoes == nil {
            let error = RunnerError(.resourceExhausted, "the execution reached its meta.max_steps of \(max) step runs; "
                                    + "step \(plan.address(of: i)) was not started",
                                    at: plan.capsule.basePointer.appending("meta").appending("max_steps"))
            record(.stepFailed(step: i, attempt: n, state: .error, dispatchedAt: nil, receipt: Receipt(), error: error,
                               retryAt: nil), at: at)
            return advance(scope(of: i), at: at)
        }
        switch step.dispatchDurability {
        case .durable:
            // A call that must not run twice goes out only once the journal says it went out: a crash
            // before the call leaves a dispatch that recovery marks unknown, never one it forgets.
            record(.stepDispatched(step: i, attempt: n), at: at, journal: .durable)
            state[i].status = .awaitingJournal(attempt: n)
            deferUntilDurable(.dispatch(step: i, attempt: n))
        case let journal:
            record(.stepDispatched(step: i, attempt: n), at: at, journal: journal)
            emit(.dispatch(call(i, attempt: n)))
        }
    }

    mutating func stepReturned(_ i: StepRef, attempt n: Int, _ outcome: StepOutcome, jitter: Double, at: Int64) {
        // A reply for an attempt that is no longer running (a restart, a late reply) changes nothing.
        guard i.node < plan.steps.count, state.status(of: i) == .running(attempt: n) else { return }
        cancelling.remove(i)
        let dispatchedAt = state[i].attempts.last { $0.number == n }?.dispatchedAt ?? at
        switch outcome {
        case .ok(let output, let receipt):
            if let broken = brokenExpectation(i, output) {
                return failed(i, attempt: n, broken, receipt: receipt, dispatchedAt: dispatchedAt, jitter: jitter, at: at)
            }
            record(.stepSucceeded(step: i, attempt: n, dispatchedAt: dispatchedAt, receipt: receipt, output: output),
                   at: at)
            advance(scope(of: i), at: at)
        case .failed(let error, let receipt):
            failed(i, attempt: n, error, receipt: receipt, dispatchedAt: dispatchedAt, jitter: jitter, at: at)
        case .refused(let error):
            record(.stepFailed(step: i, attempt: n, state: .error, dispatchedAt: nil, receipt: Receipt(), error: error,
                               retryAt: nil, continues: carriesOn(i), fallback: fallsBack(i)), at: at)
            moveOn(afterFailureOf: i, at: at)
        }
    }

    /// The first of the step's `expected_outputs` that `output` breaks, as the step's error. Checked here,
    /// once, when the output arrives: the verdict is journaled with the attempt, never decided again.
    func brokenExpectation(_ i: StepRef, _ output: JSONValue) -> RunnerError? {
        let step = plan.steps[i.node].step
        guard !step.expectedOutputs.isEmpty else { return nil }
        let execution: JSONValue = ["id": .string(id), "intent": .string(plan.capsule.intent)]
        for expectation in step.expectedOutputs {
            if let error = expectation.failure(in: output, step: step, vars: vars(seenFrom: i), execution: execution) {
                return error
            }
        }
        return nil
    }

    /// A step that failed for good lets the execution go on: its `on_error` says so and no cancel is asked.
    func carriesOn(_ i: StepRef) -> Bool {
        plan.steps[i.node].step.onError == .continue && state.stop == nil
    }

    /// A failed attempt: retried after the delay its rule gives (the decision journaled with the failure,
    /// `retryable` as the layer said it), or the end of the execution.
    mutating func failed(_ i: StepRef, attempt n: Int, _ error: RunnerError, receipt: Receipt, dispatchedAt: Int64,
                         jitter: Double, at: Int64) {
        let step = plan.steps[i.node]
        let runState = Self.runState(for: error.code)
        var retryAt: Int64?
        // A compensation is retried on its rule whatever stopped the execution.
        let mayRetry = step.undoes != nil || (state.stop == nil && !haltedByFailure(scope(of: i)))
        if mayRetry, let delay = step.retry.delay(after: n, code: error.code, retryable: error.retryable, unit: jitter) {
            retryAt = at + delay.milliseconds
        }
        record(.stepFailed(step: i, attempt: n, state: runState, dispatchedAt: dispatchedAt, receipt: receipt,
                           error: error, retryAt: retryAt, continues: retryAt == nil && carriesOn(i),
                           fallback: retryAt == nil && fallsBack(i)), at: at)
        if let retryAt {
            emit(.startTimer(step: i, attempt: n, at: retryAt))
        } else {
            moveOn(afterFailureOf: i, at: at)
        }
    }

    mutating func retryDue(_ i: StepRef, attempt n: Int, at: Int64) {
        guard i.node < plan.steps.count, case .retrying(n, _) = state[i].status, state.phase == .running else {
            return
        }
        startAttempt(i, at: at)
    }

    /// The journal's state of an attempt that failed with `code`.
    static func runState(for code: ErrorCode) -> StepRunState {
        switch code {
        case .timeout: .timedOut
        case .cancelled: .cancelled
        default: .error
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
