import JALMCore
import JALMStore
import JALMWire

extension ExecutionMachine {
    /// After a restart, with the state folded from the journal: what was in flight is run again when that
    /// is safe, marked unknown when it is not; a retry that was waiting waits for the rest of its delay;
    /// everything else carries on as if jalmd had never stopped.
    mutating func recovered(at: Int64) {
        guard !state.phase.isFinished else { return }
        if state.phase == .pending { record(.started, at: at) }
        for i in state.inFlight.sorted(by: { $0.node < $1.node }) {
            guard case .running(let n) = state[i].status else { continue }
            let step = plan.steps[i.node]
            if step.safeToRepeat {
                record(.stepInterrupted(step: i, attempt: n), at: at)
            } else {
                let error = RunnerError(
                    .unknown, "step \(plan.address(of: i)) (\(step.step.qualifiedOp)) was in flight when jalmd stopped; "
                        + "its side effect (\(step.sideEffect.rawValue)) may or may not have happened",
                    at: step.step.pointer)
                record(.stepUnknown(step: i, attempt: n, error: error), at: at)
            }
        }
        // Compensating, it goes on compensating: nothing else moves, no deadline or stop applies.
        if state.compensating != nil {
            restartRetryTimers()
            return compensateNext(at: at)
        }
        // The deadline counts from the start, across the downtime: passed, it stops the execution now.
        if let due = deadlineAt, state.stop == nil {
            if at >= due { record(.deadlinePassed, at: at) } else { emit(.startDeadline(at: due)) }
        }
        if state.stop != nil { return stopWhatRuns(at: at) }
        restartRetryTimers()
        resume(.root, at: at)
    }

    /// A retry that was waiting waits for the rest of its delay.
    private mutating func restartRetryTimers() {
        for i in state.inFlight.sorted(by: { $0.node < $1.node }) {
            if case .retrying(let n, let due) = state.status(of: i) { emit(.startTimer(step: i, attempt: n, at: due)) }
        }
    }

    /// Moves a sequence on, and every sequence inside the block it stands at, deepest first.
    mutating func resume(_ scope: Scope, at: Int64) {
        advance(scope, at: at)
        guard state.phase == .running, let ref = cursor(scope), state.status(of: ref) == .open else { return }
        settling.insert(ref)
        for inner in innerScopes(ref) { resume(inner, at: at) }
        settling.remove(ref)
        settle(ref, at: at)
    }
}
