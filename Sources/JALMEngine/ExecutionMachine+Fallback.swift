import JALMCapsule
import JALMCore
import JALMWire

/// `on_error: {steps: [...]}`: when a step (or a block) fails for good, after its retries, its fallback
/// sequence runs in its place, in the same iterations. The step stays open meanwhile; it then ends ok with
/// the fallback's last output, or failed with the error of the fallback step that failed.
extension ExecutionMachine {
    /// A step that fails for good now hands over to its fallback: it has one, nothing asked to stop, and no
    /// block around it stopped after a failure.
    func fallsBack(_ i: StepRef) -> Bool {
        plan.steps[i.node].fallback != nil && state.stop == nil && !haltedByFailure(scope(of: i))
    }

    /// After a step's failure is recorded: its fallback starts, or its sequence sees the failure.
    mutating func moveOn(afterFailureOf i: StepRef, at: Int64) {
        if let scope = fallbackScope(of: i), state.fallback(of: i) == .running {
            return advance(scope, at: at)
        }
        advance(scope(of: i), at: at)
    }

    /// The fallback sequence of a step run, if the step has one.
    func fallbackScope(of i: StepRef) -> Scope? {
        plan.steps[i.node].fallback.map { Scope(sequence: $0, path: i.path) }
    }

    /// A look at a step whose fallback runs: ends it when the fallback is done or failed. True when it ended.
    mutating func settleFallback(_ ref: StepRef, at: Int64) -> Bool {
        guard let scope = fallbackScope(of: ref) else { return false }
        guard let cursor = cursor(scope) else {
            record(.fallbackEnded(step: ref, output: lastOutput(scope), error: nil), at: at)
            advance(self.scope(of: ref), at: at)
            return true
        }
        guard state.status(of: cursor) == .failed, let last = state[cursor].attempts.last else { return false }
        var error = endingError(cursor, last)
        error.message = "the on_error steps of \(plan.address(of: ref)) failed: \(error.message)"
        record(.fallbackEnded(step: ref, output: nil, error: error), at: at)
        advance(self.scope(of: ref), at: at)
        return true
    }
}
