import JALMCore
import JALMWire

extension ExecutionMachine.State {
    /// Folds one event into the state. The only place the state changes: live decisions and recovery both
    /// come here, so a history read back after a crash gives exactly the state the live run had.
    mutating func apply(_ entry: JournalEntry) {
        lastSeq = max(lastSeq, entry.seq)
        let at = entry.at
        switch entry.event {
        case .submitted(let startsNow, let dry):
            createdAt = at
            dryRun = dry
            if startsNow {
                startedAt = at
                phase = .running
            }
        case .started:
            startedAt = at
            phase = .running
        case .stepSkipped(let i):
            steps[i].status = .skipped
            steps[i].update(steps[i].nextAttempt) { $0.state = .skipped; $0.finishedAt = at }
        case .stepDispatched(let i, let n):
            steps[i].status = .running(attempt: n)
            steps[i].update(n) { $0.state = .dispatched; $0.dispatchedAt = at }
        case .stepSucceeded(let i, let n, let dispatchedAt, let receipt, let output):
            steps[i].status = .ok
            steps[i].output = output
            steps[i].update(n) { a in
                a.state = .ok
                a.dispatchedAt = dispatchedAt
                a.finishedAt = at
                a.receipt = receipt
                a.error = nil
            }
        case .stepFailed(let i, let n, let state, let dispatchedAt, let receipt, let error, let retryAt, let continues):
            steps[i].status = retryAt.map { .retrying(attempt: n, at: $0) } ?? (continues ? .continued : .failed)
            steps[i].update(n) { a in
                a.state = state
                a.dispatchedAt = dispatchedAt
                a.finishedAt = at
                a.receipt = receipt
                a.error = error
            }
        case .stepInterrupted(let i, let n):
            steps[i].status = .pending
            steps[i].update(n) { $0.state = .interrupted; $0.finishedAt = at }
        case .stepUnknown(let i, let n, let error):
            steps[i].status = .failed
            steps[i].update(n) { $0.state = .unknown; $0.finishedAt = at; $0.error = error }
        case .cancelRequested:
            if stop == nil { stop = .cancel }
        case .deadlinePassed:
            if stop == nil { stop = .deadline }
        case .finished(let state, let error):
            phase = .finished(state, error)
            finishedAt = at
        }
    }
}
