import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// Stopping an execution before its steps are done: a cancel, or its `meta.timeout` passing. Both stop
/// the call in flight (the execution ends when it comes back) or end the execution at once when nothing
/// is in flight; a cancel ends it `cancelled`, a deadline `failed` with `timeout`.
extension ExecutionMachine {
    /// Once the execution compensates, a cancel changes nothing: its compensations run to the end.
    mutating func cancel(at: Int64) {
        guard !state.phase.isFinished, state.stop == nil, state.compensating == nil else { return }
        record(.cancelRequested, at: at)
        guard state.phase == .running else {
            return end(.cancelled, RunnerError(.cancelled, "cancelled before it started"), at: at)
        }
        stopWhatRuns(at: at)
    }

    mutating func deadline(at: Int64) {
        guard state.phase == .running, state.stop == nil, state.compensating == nil, let due = deadlineAt, at >= due
        else { return }
        record(.deadlinePassed, at: at)
        stopWhatRuns(at: at)
    }

    /// When `meta.timeout` runs out: that long after the execution started.
    var deadlineAt: Int64? {
        guard let timeout = plan.capsule.limits.timeoutMs, let started = state.startedAt else { return nil }
        return started + timeout
    }

    /// Stops every call out (its reply ends it), and ends the execution once none is out.
    mutating func stopWhatRuns(at: Int64) {
        for ref in state.inFlight.sorted(by: { $0.node < $1.node }) where state.phase == .running {
            stopCall(ref, why: nil, at: at)
        }
        stopIfIdle(at: at)
    }

    /// Ends a stopped execution; `place` ("before", "during") and `step` say where it stood.
    mutating func endStopped(_ place: String?, step i: StepRef? = nil, at: Int64) {
        let step = i.map { plan.steps[$0.node] }
        let whereText = place.flatMap { p in i.map { " \(p) step \(plan.address(of: $0))" } } ?? ""
        switch state.stop {
        case .deadline:
            let written = plan.capsule.meta["timeout"].map { $0.stringValue ?? "\(JSONWriter.string($0))s" } ?? "?"
            let pointer = plan.capsule.basePointer.appending("meta").appending("timeout")
            end(.failed, RunnerError(.timeout, "the execution ran past its meta.timeout of \(written)\(whereText)",
                                     at: pointer), at: at)
        case .cancel, nil:
            end(.cancelled, RunnerError(.cancelled, "cancelled\(whereText)", pointer: step?.step.pointer.description),
                at: at)
        }
    }
}
