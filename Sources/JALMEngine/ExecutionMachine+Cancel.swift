import JALMCore
import JALMStore
import JALMWire

extension ExecutionMachine {
    /// A cancel stops the call in flight (the execution ends when it comes back), or ends the execution at
    /// once when nothing is in flight.
    mutating func cancel(at: Int64) {
        guard !state.phase.isFinished, !state.cancelRequested else { return }
        record(.cancelRequested, at: at)
        guard state.phase == .running else {
            return end(.cancelled, RunnerError(.cancelled, "cancelled before it started"), at: at)
        }
        let i = state.cursor
        guard i < plan.steps.count else { return end(.cancelled, RunnerError(.cancelled, "cancelled"), at: at) }
        let step = plan.steps[i]
        let during = RunnerError(.cancelled, "cancelled during step \(step.address)", at: step.step.pointer)
        switch state.steps[i].status {
        case .running(let n):
            emit(.cancelCall(step: i, attempt: n))
        case .awaitingJournal(let n):
            // The call never went out: its dispatch is journaled, so journal that it ended here.
            record(.stepFailed(step: i, attempt: n, state: .cancelled, dispatchedAt: nil, receipt: Receipt(),
                               error: RunnerError(.cancelled, "cancelled before the call went out"), retryAt: nil),
                   at: at)
            end(.cancelled, during, at: at)
        case .retrying:
            end(.cancelled, during, at: at)
        case .pending, .failed, .ok, .skipped, .continued:
            advance(at: at)
        }
    }
}
