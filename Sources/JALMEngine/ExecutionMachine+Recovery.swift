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
        for i in state.steps.indices {
            guard case .running(let n) = state.steps[i].status else { continue }
            let step = plan.steps[i]
            if step.safeToRepeat {
                record(.stepInterrupted(step: i, attempt: n), at: at)
            } else {
                let error = RunnerError(
                    .unknown, "step \(step.address) (\(step.step.qualifiedOp)) was in flight when jalmd stopped; "
                        + "its side effect (\(step.sideEffect.rawValue)) may or may not have happened",
                    at: step.step.pointer)
                record(.stepUnknown(step: i, attempt: n, error: error), at: at)
            }
        }
        // The deadline counts from the start, across the downtime: passed, it stops the execution now.
        if let due = deadlineAt, state.stop == nil {
            if at >= due { record(.deadlinePassed, at: at) } else { emit(.startDeadline(at: due)) }
        }
        let i = state.cursor
        if i < plan.steps.count, case .retrying(let n, let due) = state.steps[i].status {
            if state.stop != nil { return endStopped("during", step: i, at: at) }
            return emit(.startTimer(step: i, attempt: n, at: due))
        }
        advance(at: at)
    }
}
