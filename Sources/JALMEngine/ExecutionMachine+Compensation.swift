import JALMCapsule
import JALMCore
import JALMWire

/// `compensate:`: each step run that ended ok registers its compensation (`State.compensable`). When the
/// execution is to end failed or cancelled (a failure, an abort, a cancel, its deadline), it first journals
/// that end (`compensating`), then runs the registered compensations one at a time, newest first, each
/// with its own retry rule; then it ends as it was to. Nothing stops them: a cancel or a deadline that
/// comes meanwhile changes nothing. A compensation in flight at a crash is treated as any call: run again
/// when it is safe to repeat, `unknown` (and not run again) when it is not.
extension ExecutionMachine {
    /// The execution was to end `final`: with compensations registered, they run first.
    /// Returns false when there is nothing to compensate.
    mutating func compensateBeforeEnding(_ final: ExecutionState, _ error: RunnerError?, at: Int64) -> Bool {
        guard final != .completed, state.compensating == nil, !state.compensable.isEmpty else { return false }
        record(.compensating(state: final, error: error), at: at)
        compensateNext(at: at)
        return true
    }

    /// Starts the next compensation, or waits for the one out, or ends the execution after the last.
    mutating func compensateNext(at: Int64) {
        guard state.phase == .running, let ending = state.compensating else { return }
        var failed: [StepRef] = []
        for ref in state.compensable.reversed() {
            let c = compensation(of: ref)
            switch state.status(of: c) {
            case .pending: return startAttempt(c, at: at)
            case .failed: failed.append(c)
            case .ok, .skipped, .continued: continue
            case .running, .awaitingJournal, .retrying, .open: return
            }
        }
        end(ending.state, naming(failed, in: ending.error), at: at)
    }

    /// The run of the compensation of step run `ref`.
    func compensation(of ref: StepRef) -> StepRef {
        StepRef(node: plan.steps[ref.node].compensation!, path: ref.path)
    }

    /// The execution's error, with the compensations that failed named after it: what was not undone needs
    /// a person.
    func naming(_ failed: [StepRef], in error: RunnerError?) -> RunnerError? {
        guard !failed.isEmpty else { return error }
        var e = error ?? RunnerError(.internal, "the execution failed")
        let names = failed.map { plan.address(of: $0) }
        let first = state[failed[0]].attempts.last?.error?.message ?? "no reply"
        e.message += "; and \(failed.count == 1 ? "its compensation" : "\(failed.count) compensations") "
            + "\(names.joined(separator: ", ")) failed (\(first)): what it undoes may still stand"
        var details = e.details?.objectValue ?? [:]
        details["compensations_failed"] = .array(names.map(JSONValue.string))
        e.details = .object(details)
        return e
    }
}
