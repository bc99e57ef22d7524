import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// A list of steps in one run: the capsule's own, a switch case's, a parallel branch, or one iteration of
/// a foreach body (its `path` then ends with the iteration's index).
struct Scope: Sendable, Hashable {
    var sequence: Int
    var path: [Int]

    static let root = Scope(sequence: 0, path: [])
}

extension ExecutionMachine {
    /// Moves a sequence on from its first step that has not ended: skips what its `when:` excludes, starts
    /// the next step or block, or, when every step is done, lets the block that holds it (or the execution)
    /// know.
    mutating func advance(_ scope: Scope, at: Int64) {
        // Once the execution compensates, only its compensations move.
        if state.compensating != nil { return compensateNext(at: at) }
        while state.phase == .running {
            if state.stop != nil { return stopIfIdle(at: at) }
            guard let ref = cursor(scope) else { return sequenceDone(scope, at: at) }
            let step = plan.steps[ref.node]
            switch state.status(of: ref) {
            case .pending:
                if haltedByFailure(scope) { return }
                switch gate(ref) {
                case .run:
                    if let abort = step.step.abort {
                        aborted(ref, abort, at: at)
                        continue
                    }
                    if step.step.set != nil {
                        assign(ref, at: at)
                        continue
                    }
                    if step.step.block != nil {
                        startBlock(ref, at: at)
                        continue
                    }
                    return startAttempt(ref, at: at)
                case .skip: record(.stepSkipped(step: ref), at: at)
                case .fail(let error):
                    record(.stepFailed(step: ref, attempt: state[ref].nextAttempt, state: .error, dispatchedAt: nil,
                                       receipt: Receipt(), error: error, retryAt: nil), at: at)
                }
            case .failed:
                return sequenceFailed(scope, at: ref, at: at)
            case .running, .awaitingJournal, .retrying, .ok, .skipped, .continued, .open:
                return
            }
        }
    }

    /// The first step of the sequence that has not ended ok, skipped or failed-and-continued.
    func cursor(_ scope: Scope) -> StepRef? {
        // An iteration a paged foreach let go of ended ok: its runs are gone, not pending.
        if let k = scope.path.last, let loop = plan.sequences[scope.sequence].owner, plan.steps[loop].pageFetch != nil,
           state.blocks[StepRef(node: loop, path: scope.path.dropLast())]?.pruned.contains(k) == true {
            return nil
        }
        for node in plan.sequences[scope.sequence].nodes {
            let ref = StepRef(node: node, path: scope.path)
            if !state.status(of: ref).letsSequenceOn { return ref }
        }
        return nil
    }

    /// The sequence a step run sits in.
    func scope(of ref: StepRef) -> Scope { Scope(sequence: plan.steps[ref.node].sequence, path: ref.path) }

    /// The block run that holds a sequence, or the step whose fallback it is (nil for the capsule's own steps).
    func owner(of scope: Scope) -> StepRef? {
        guard let node = plan.sequences[scope.sequence].owner else { return nil }
        if case .foreach = plan.steps[node].step.block, plan.steps[node].fallback != scope.sequence {
            return StepRef(node: node, path: scope.path.dropLast())
        }
        return StepRef(node: node, path: scope.path)
    }

    /// The output of a sequence: its last step's (null when it was skipped or failed and went on).
    func lastOutput(_ scope: Scope) -> JSONValue {
        guard let last = plan.sequences[scope.sequence].nodes.last else { return .null }
        return state[StepRef(node: last, path: scope.path)].output ?? .null
    }

    /// Every step of a sequence has ended and let it go on.
    mutating func sequenceDone(_ scope: Scope, at: Int64) {
        guard let block = owner(of: scope) else { return end(.completed, nil, at: at) }
        settle(block, at: at)
    }

    /// A step of the sequence failed for good: the execution fails, or the block that holds the sequence.
    mutating func sequenceFailed(_ scope: Scope, at ref: StepRef, at: Int64) {
        guard let block = owner(of: scope) else { return endAfterFailure(ref, at: at) }
        settle(block, at: at)
    }

    /// While a stop (a cancel, the deadline) is asked: the execution ends once no call is out.
    mutating func stopIfIdle(at: Int64) {
        guard state.inFlight.isEmpty else { return }
        guard let ref = cursor(.root) else { return endStopped(nil, at: at) }
        // A write found in flight after a crash says so, whatever stopped the execution.
        if let last = state[ref].attempts.last, last.state == .unknown, let error = last.error {
            return end(state.cancelRequested ? .cancelled : .failed, error, at: at)
        }
        endStopped(state.status(of: ref) == .pending ? "before" : "during", step: ref, at: at)
    }

    enum Gate { case run, skip, fail(RunnerError) }

    /// A `set` step: its values rendered over the vars and outputs so far, journaled as its output (so a
    /// restart reads them back, never renders them again). A value that cannot be rendered fails the step.
    mutating func assign(_ i: StepRef, at: Int64) {
        let n = state[i].nextAttempt
        do {
            let values = try Template.render(plan.steps[i.node].input, context: templateContext(for: i))
            record(.stepSucceeded(step: i, attempt: n, dispatchedAt: at, receipt: Receipt(), output: values), at: at)
        } catch {
            record(.stepFailed(step: i, attempt: n, state: .error, dispatchedAt: nil, receipt: Receipt(), error: error,
                               retryAt: nil), at: at)
        }
    }

    /// An `abort` step was reached: its error is journaled as its one attempt, and it fails like a step
    /// with `on_error: fail` (the execution, or the block it is in).
    mutating func aborted(_ i: StepRef, _ abort: AbortSpec, at: Int64) {
        let pointer = plan.steps[i.node].step.pointer.appending("abort")
        // The message may hold templates: rendered here, over the vars and outputs so far. One that cannot
        // be rendered ends the execution with that fault instead.
        let failure: RunnerError
        do {
            let rendered = try Template.render(plan.steps[i.node].input, context: templateContext(for: i))
            let message = rendered["message"].map { $0.stringValue ?? JSONWriter.string($0, sortedKeys: true) } ?? abort.message
            failure = RunnerError(abort.code, message, at: pointer)
        } catch {
            failure = error
        }
        record(.stepFailed(step: i, attempt: state[i].nextAttempt, state: .error, dispatchedAt: nil,
                           receipt: Receipt(), error: failure, retryAt: nil), at: at)
    }

    /// The step's `when:` over what it sees, and its references to skipped steps.
    func gate(_ i: StepRef) -> Gate {
        let step = plan.steps[i.node].step
        if step.when == nil && !plan.hasBlocks
            && !state.steps.contains(where: { $0.status == .skipped || $0.status == .continued }) {
            return .run
        }
        let skipped = self.skipped(seenFrom: i)
        let failed = self.continuedAfterFailure(seenFrom: i)
        let locals = self.locals(of: i)
        do {
            if step.when != nil {
                let root = conditionRoot(for: i, skipped: skipped, failed: failed, locals: locals)
                if try !StepCondition.holds(step, over: root) { return .skip }
            }
        } catch {
            return .fail(error)
        }
        return StepCondition.skippedReference(step, skipped: skipped, failed: Set(failed.keys),
                                              locals: Set(locals.keys)).map { .fail($0) } ?? .run
    }

    /// What a condition of step run `i` reads (its `when`, or a switch case's).
    func conditionRoot(for i: StepRef, skipped: Set<String>? = nil,
                       failed: [String: (state: String, error: JSONValue)]? = nil,
                       locals: [String: JSONValue]? = nil) -> JSONValue {
        StepCondition.root(capsule: plan.capsule, executionID: id, outputs: outputs(seenFrom: i),
                           skipped: skipped ?? self.skipped(seenFrom: i),
                           failed: failed ?? continuedAfterFailure(seenFrom: i), vars: vars(seenFrom: i),
                           locals: locals ?? self.locals(of: i))
    }

    /// How the execution ends after step `i`, outside any block, ended without an output.
    mutating func endAfterFailure(_ i: StepRef, at: Int64) {
        let step = plan.steps[i.node]
        guard let last = state[i].attempts.last else {
            return end(.failed, RunnerError(.internal, "step \(step.address) failed", at: step.step.pointer), at: at)
        }
        let error = last.error ?? RunnerError(.internal, "step \(step.address) failed")
        // A stop never comes here (`advance` ends a stopped execution in `stopIfIdle`).
        end(.failed, last.state == .unknown ? error : endingError(i, last), at: at)
    }

    /// The execution's error when step `i` failed for good: a failure that never reached a layer (its
    /// condition or input) is the capsule's own error and points into it; a layer's failure is named with
    /// its step and points at the step, its code and `retryable` kept. A block's failure is already one of
    /// these, from the step inside it that failed.
    func endingError(_ i: StepRef, _ attempt: Attempt) -> RunnerError {
        // A step whose fallback failed ends with the fallback's error, made when it failed.
        if case .failed(let error)? = state.fallback(of: i) { return error }
        let step = plan.steps[i.node]
        guard var error = attempt.error else {
            return RunnerError(.internal, "step \(plan.address(of: i)) failed", at: step.step.pointer)
        }
        guard attempt.dispatchedAt != nil, step.step.block == nil else { return error }
        // A layer's error points nowhere in the capsule: it gets the step's place. One the machine made
        // (a broken expectation) already points at its place.
        if error.pointer == nil { error.pointer = step.step.pointer.description }
        error.message = "step \(plan.address(of: i)) (\(step.step.qualifiedOp)) failed: \(error.message)"
        return error
    }
}
