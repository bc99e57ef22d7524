import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

extension ExecutionMachine {
    /// Moves the sequence on from the first step that has not ended: skips what its `when:` excludes,
    /// starts the next step, or ends the execution when every step is done.
    mutating func advance(at: Int64) {
        while state.phase == .running {
            let i = state.cursor
            guard i < plan.steps.count else { return end(.completed, nil, at: at) }
            let step = plan.steps[i]
            switch state.steps[i].status {
            case .pending:
                if state.stop != nil { return endStopped("before", step: i, at: at) }
                switch gate(i) {
                case .run:
                    if let abort = step.step.abort { return aborted(i, abort, at: at) }
                    if step.step.set != nil {
                        guard assign(i, at: at) else { return }
                        continue
                    }
                    return startAttempt(i, at: at)
                case .skip: record(.stepSkipped(step: i), at: at)
                case .fail(let error):
                    record(.stepFailed(step: i, attempt: state.steps[i].nextAttempt, state: .error, dispatchedAt: nil,
                                       receipt: Receipt(), error: error, retryAt: nil), at: at)
                    return end(.failed, error, at: at)
                }
            case .failed:
                return endAfterFailure(i, at: at)
            case .running, .awaitingJournal, .retrying, .ok, .skipped, .continued:
                return
            }
        }
    }

    enum Gate { case run, skip, fail(RunnerError) }

    /// A `set` step: its values rendered over the vars and outputs so far, journaled as its output (so a
    /// restart reads them back, never renders them again). False when a value cannot be rendered: the
    /// execution has failed.
    mutating func assign(_ i: Int, at: Int64) -> Bool {
        let n = state.steps[i].nextAttempt
        do {
            let values = try Template.render(plan.steps[i].input, context: TemplateContext(vars: vars, stepOutputs: outputs))
            record(.stepSucceeded(step: i, attempt: n, dispatchedAt: at, receipt: Receipt(), output: values), at: at)
            return true
        } catch {
            record(.stepFailed(step: i, attempt: n, state: .error, dispatchedAt: nil, receipt: Receipt(), error: error,
                               retryAt: nil), at: at)
            end(.failed, error, at: at)
            return false
        }
    }

    /// An `abort` step was reached: its error is journaled as its one attempt, and the execution fails.
    mutating func aborted(_ i: Int, _ abort: AbortSpec, at: Int64) {
        let pointer = plan.steps[i].step.pointer.appending("abort")
        // The message may hold templates: rendered here, over the vars and outputs so far. One that cannot
        // be rendered ends the execution with that fault instead.
        let failure: RunnerError
        do {
            let rendered = try Template.render(plan.steps[i].input, context: TemplateContext(vars: vars, stepOutputs: outputs))
            let message = rendered["message"].map { $0.stringValue ?? JSONWriter.string($0, sortedKeys: true) } ?? abort.message
            failure = RunnerError(abort.code, message, at: pointer)
        } catch {
            failure = error
        }
        record(.stepFailed(step: i, attempt: state.steps[i].nextAttempt, state: .error, dispatchedAt: nil,
                           receipt: Receipt(), error: failure, retryAt: nil), at: at)
        end(.failed, failure, at: at)
    }

    /// The step's `when:` over the outputs so far, and its references to skipped steps.
    func gate(_ i: Int) -> Gate {
        let step = plan.steps[i].step
        if step.when == nil && !state.steps.contains(where: { $0.status == .skipped || $0.status == .continued }) {
            return .run
        }
        let skipped = self.skipped
        let failed = self.continuedAfterFailure
        do {
            if step.when != nil {
                let root = StepCondition.root(capsule: plan.capsule, executionID: id, outputs: outputs, skipped: skipped,
                                              failed: failed, vars: vars)
                if try !StepCondition.holds(step, over: root) { return .skip }
            }
        } catch {
            return .fail(error)
        }
        return StepCondition.skippedReference(step, skipped: skipped, failed: Set(failed.keys)).map { .fail($0) } ?? .run
    }

    /// How the execution ends after step `i` ended without an output, as its last attempt says.
    mutating func endAfterFailure(_ i: Int, at: Int64) {
        let step = plan.steps[i]
        guard let last = state.steps[i].attempts.last else {
            return end(.failed, RunnerError(.internal, "step \(step.address) failed", at: step.step.pointer), at: at)
        }
        let error = last.error ?? RunnerError(.internal, "step \(step.address) failed")
        if last.state == .unknown {
            end(state.cancelRequested ? .cancelled : .failed, error, at: at)
        } else if state.stop != nil {
            endStopped("during", step: i, at: at)
        } else {
            end(.failed, endingError(i, last), at: at)
        }
    }

    /// The execution's error when step `i` failed for good: a failure that never reached a layer (its
    /// condition or input) is the capsule's own error and points into it; a layer's failure is named with
    /// its step and points at the step, its code and `retryable` kept.
    func endingError(_ i: Int, _ attempt: Attempt) -> RunnerError {
        let step = plan.steps[i]
        guard var error = attempt.error else {
            return RunnerError(.internal, "step \(step.address) failed", at: step.step.pointer)
        }
        guard attempt.dispatchedAt != nil else { return error }
        // A layer's error points nowhere in the capsule: it gets the step's place. One the machine made
        // (a broken expectation) already points at its place.
        if error.pointer == nil { error.pointer = step.step.pointer.description }
        error.message = "step \(step.address) (\(step.step.qualifiedOp)) failed: \(error.message)"
        return error
    }
}
