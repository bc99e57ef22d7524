import JALMCapsule
import JALMCore
import JALMPlatform
import JALMStore
import JALMWire

extension Engine {
    /// Why a step does not run now: its `when:` was false, or the condition (or a reference to a skipped
    /// step) failed.
    enum StepGate {
        case skipped
        case failed(RunnerError)
    }

    /// Decides a step's `when:` over the outputs so far and journals the outcome when the step does not
    /// run (a `skipped` row, or an `error` row at `/steps/N/when`). nil: the step runs.
    func gate(_ step: Step, capsule: Capsule, execution id: String, outputs: [String: JSONValue],
              skipped: Set<String>, attempt: Int) -> StepGate?
    {
        // Most steps have no condition and follow no skipped step: nothing to build or check.
        if step.when == nil && skipped.isEmpty { return nil }
        let failure: RunnerError
        do {
            if step.when != nil,
               try !StepCondition.holds(step, over: StepCondition.root(
                   capsule: capsule, executionID: id, outputs: outputs, skipped: skipped)) {
                journalGate(step, execution: id, attempt: attempt, state: .skipped, error: nil)
                return .skipped
            }
            guard let error = StepCondition.skippedReference(step, skipped: skipped) else { return nil }
            failure = error
        } catch {
            failure = error
        }
        journalGate(step, execution: id, attempt: attempt, state: .error, error: failure)
        return .failed(failure)
    }

    private func journalGate(_ step: Step, execution id: String, attempt: Int, state: StepRunState, error: RunnerError?) {
        let sideEffect = catalog.card(layer: step.layer, op: step.op)?.sideEffect.rawValue ?? SideEffect.external.rawValue
        let now = epochMilliseconds()
        store.submit([.upsertStepRun(StepRunRecord(
            executionID: id, stepIndex: step.index, stepID: step.id, attempt: attempt, layer: step.layer, op: step.op,
            sideEffect: sideEffect, state: state.rawValue, input: nil, output: nil, error: error?.json, queuedAt: now,
            dispatchedAt: nil, finishedAt: now, layerPID: nil, pluginVersion: nil, idempotencyKey: nil))])
    }
}
