import JALMCapsule
import JALMCore
import JALMDocument
import JALMStore
import JALMWire

/// Turns the executions of a schema-1 journal (one row per step attempt) into histories of events, for the
/// journal's upgrade to schema 2. Each row becomes the event that would have produced it; a failed attempt
/// of an unfinished execution gets the retry its rule still allows (due at once), so that recovery decides
/// as the old kernel would have.
public enum LegacyJournal {
    public static func upgrade(catalog: Catalog) -> LegacyUpgrade {
        { legacy in convert(legacy, catalog: catalog) }
    }

    static func convert(_ x: LegacyExecution, catalog: Catalog) -> (events: [EventRecord], summary: ExecutionSummary) {
        let summary = ExecutionSummary(state: x.state, startedAt: x.startedAt, finishedAt: x.finishedAt, error: x.error)
        let finalState = ExecutionState(rawValue: x.state).flatMap { $0.isFinal ? $0 : nil }
        var entries: [(at: Int64, event: ExecutionEvent)] = [(x.createdAt, .submitted(startsNow: false))]
        if x.state != ExecutionState.pending.rawValue { entries.append((x.startedAt ?? x.createdAt, .started)) }
        guard let plan = try? Plan(capsule: CapsuleParser.parse(Document.parse(Array(x.capsule.utf8), contentType: nil)),
                                   catalog: catalog)
        else {
            // Its steps cannot be named any more: keep the header, and end it if it had not ended.
            var records = entries.enumerated().map { i, e in
                JournalEntry(seq: i + 1, at: e.at, event: e.event).headerRecord
            }
            let error = finalState == nil
                ? RunnerError(.internal, "the capsule of this execution no longer passes the catalog; it cannot resume")
                : x.error.flatMap(RunnerError.init(json:))
            records.append(ExecutionEvent.finishedRecord(seq: records.count + 1, at: x.finishedAt ?? x.createdAt,
                                                         state: finalState ?? .failed, error: error))
            var s = summary
            if finalState == nil {
                s.state = ExecutionState.failed.rawValue
                s.error = error?.json
                s.finishedAt = x.createdAt
            }
            return (records, s)
        }
        let lastAttempt = Dictionary(x.runs.map { ($0.stepIndex, $0.attempt) }, uniquingKeysWith: max)
        for run in x.runs where run.stepIndex < plan.steps.count {
            let i = StepRef(node: run.stepIndex)
            let finished = run.finishedAt ?? run.dispatchedAt ?? run.queuedAt
            let receipt = Receipt(pid: run.layerPID, version: run.pluginVersion)
            let error = run.error.flatMap(RunnerError.init(json:)) ?? RunnerError(.internal, "step \(run.stepID) failed")
            switch StepRunState(rawValue: run.state) {
            case .dispatched:
                entries.append((run.dispatchedAt ?? run.queuedAt, .stepDispatched(step: i, attempt: run.attempt)))
            case .ok:
                entries.append((finished, .stepSucceeded(step: i, attempt: run.attempt,
                                                         dispatchedAt: run.dispatchedAt ?? finished, receipt: receipt,
                                                         output: run.output ?? .null)))
            case .skipped:
                entries.append((finished, .stepSkipped(step: i)))
            case .unknown:
                entries.append((finished, .stepUnknown(step: i, attempt: run.attempt, error: error)))
            case .error, .timedOut, .cancelled:
                var retryAt: Int64?
                if finalState == nil, lastAttempt[i.node] == run.attempt,
                   plan.steps[i.node].retry.delay(after: run.attempt, code: error.code, retryable: error.retryable, unit: 0) != nil {
                    retryAt = finished
                }
                entries.append((finished, .stepFailed(step: i, attempt: run.attempt,
                                                      state: StepRunState(rawValue: run.state) ?? .error,
                                                      dispatchedAt: run.dispatchedAt, receipt: receipt, error: error,
                                                      retryAt: retryAt)))
            case .queued, .interrupted, nil:
                continue  // never went out: the step starts afresh
            }
        }
        if let finalState {
            entries.append((x.finishedAt ?? x.createdAt,
                            .finished(state: finalState, error: x.error.flatMap(RunnerError.init(json:)))))
        }
        let records = entries.enumerated().map { i, e in
            JournalEntry(seq: i + 1, at: e.at, event: e.event).record(plan: plan)
        }
        return (records, summary)
    }
}

extension JournalEntry {
    /// The record of an event that names no step.
    var headerRecord: EventRecord {
        var r = EventRecord(seq: seq, at: at, kind: event.kind)
        if case .submitted(false, _) = event { r.payload = ["q": true] }
        return r
    }
}
