import Logging
import JALMCapsule
import JALMCore
import JALMDocument
import JALMPlatform
import JALMStore
import JALMWire

extension Engine {
    /// After a restart: resumes every execution the journal says was pending or running, from its first
    /// unfinished step. A repeatable step that was in flight is run again, and so is a step of an
    /// idempotent op (with the same key); any other `write`/`external` step that was in flight is marked
    /// `unknown` and fails the execution, since it may have happened.
    public func recover() async {
        defer { markRecovered() }
        let unfinished: [ExecutionRecord]
        do { unfinished = try store.unfinishedExecutions() } catch {
            logger.error("cannot read unfinished executions", metadata: ["error": "\(error)"])
            return
        }
        for record in unfinished { await resume(record) }
        if !unfinished.isEmpty {
            logger.notice("resumed unfinished executions", metadata: ["engine.resumed": "\(unfinished.count)"])
        }
    }

    private func resume(_ record: ExecutionRecord) async {
        let capsule: Capsule
        let runs: [StepRunRecord]
        do {
            capsule = try CapsuleParser.parse(Document.parse(Array(record.capsule.utf8), contentType: nil))
            runs = try store.stepRuns(executionID: record.id)
        } catch {
            await finish(id: record.id, state: .failed, error: RunnerError(.internal, "cannot resume: \(error)"))
            return
        }
        var outputs: [String: JSONValue] = [:]
        var attempts: [Int: Int] = [:]
        for run in runs { attempts[run.stepIndex] = max(attempts[run.stepIndex] ?? 0, run.attempt) }
        for step in capsule.steps {
            let latest = runs.last { $0.stepIndex == step.index }
            if let latest, latest.state == StepRunState.ok.rawValue {
                outputs[step.id] = latest.output ?? .null
                continue
            }
            if let latest, latest.state == StepRunState.skipped.rawValue { continue }
            // An idempotent op is re-run with the same key: the layer or its receiver applies it once.
            let idempotent = catalog.card(layer: step.layer, op: step.op)?.idempotent ?? false
            if let latest, latest.state == StepRunState.dispatched.rawValue || latest.state == StepRunState.queued.rawValue,
               !(SideEffect(rawValue: latest.sideEffect) ?? .external).isRepeatable, !idempotent
            {
                var row = latest
                row.state = StepRunState.unknown.rawValue
                row.finishedAt = epochMilliseconds()
                let error = RunnerError(
                    .unknown, "step \(step.id) (\(step.layer).\(step.op)) was in flight when jalmd stopped; "
                        + "its side effect (\(latest.sideEffect)) may or may not have happened", at: step.pointer)
                row.error = error.json
                store.submit([.upsertStepRun(row)])
                state.withLock { s in if s.running[record.id] == nil { s.running[record.id] = Running() } }
                await finish(id: record.id, state: .failed, error: error)
                return
            }
            if let latest, let ending = endingAfterFailure(latest, step: step) {
                state.withLock { s in if s.running[record.id] == nil { s.running[record.id] = Running() } }
                await finish(id: record.id, state: ending.0, error: ending.1)
                return
            }
            start(id: record.id, capsule: capsule, from: step.index, outputs: outputs, attempts: attempts)
            return
        }
        state.withLock { s in if s.running[record.id] == nil { s.running[record.id] = Running() } }
        await finish(id: record.id, state: .completed, error: nil)
    }

    /// For a step whose last attempt ended in failure before the crash: nil when its retry rule allows
    /// another attempt, else how the execution ends (as it would have, had the kernel lived).
    private func endingAfterFailure(_ run: StepRunRecord, step: Step) -> (ExecutionState, RunnerError)? {
        guard let state = StepRunState(rawValue: run.state), state.isFinal, state != .ok else { return nil }
        let error = run.error.flatMap(RunnerError.init(json:)) ?? RunnerError(.internal, "step \(step.id) failed")
        if state == .cancelled { return (.cancelled, error) }
        if state == .unknown { return (.failed, error) }
        let sideEffect = catalog.card(layer: step.layer, op: step.op)?.effectiveSideEffect ?? .external
        let rule = step.retry?.rule ?? .default(for: sideEffect)
        let retryable = run.error?["retryable"]?.boolValue
        if rule.delay(after: run.attempt, code: error.code, retryable: retryable, unit: 0) != nil { return nil }
        return (.failed, error)
    }
}
