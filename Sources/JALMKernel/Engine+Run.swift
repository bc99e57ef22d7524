import Logging
import JALMCapsule
import JALMCore
import JALMPlatform
import JALMStore
import JALMSupervisor
import JALMWire

extension Engine {
    enum StepResult {
        case ok(JSONValue)
        case failed(RunnerError)
        case cancelled
        /// jalmd is stopping and gave up waiting: leave the execution to resume at next start.
        case abandoned
    }

    /// Runs the steps of one execution in order, from `index`, and journals how it ends.
    func run(id: String, capsule: Capsule, from index: Int, outputs: [String: JSONValue], attempts: [Int: Int]) async {
        store.submit([.updateExecution(id: id, state: ExecutionState.running.rawValue, startedAt: epochMilliseconds(),
                                       finishedAt: nil, error: nil)])
        var outputs = outputs
        // Steps run in order and each ends ok or skipped: an earlier step without an output was skipped.
        var skipped = Set(capsule.steps[..<index].map(\.id)).subtracting(outputs.keys)
        var ending: (ExecutionState, RunnerError?) = (.completed, nil)
        for step in capsule.steps[index...] {
            if Task.isCancelled { ending = (.cancelled, RunnerError(.cancelled, "cancelled before step \(step.id)")); break }
            if let gate = gate(step, capsule: capsule, execution: id, outputs: outputs, skipped: skipped,
                               attempt: (attempts[step.index] ?? 0) + 1) {
                if case .failed(let error) = gate { ending = (.failed, error); break }
                skipped.insert(step.id)
                continue
            }
            let context = TemplateContext(vars: capsule.vars, stepOutputs: outputs)
            switch await runStep(step, execution: id, context: context, secretNames: capsule.secretNames,
                                 firstAttempt: (attempts[step.index] ?? 0) + 1) {
            case .ok(let output):
                outputs[step.id] = output
                continue
            case .failed(let error):
                ending = (.failed, error)
            case .cancelled:
                ending = (.cancelled, RunnerError(.cancelled, "cancelled during step \(step.id)", at: step.pointer))
            case .abandoned:
                finished(id: id)
                return
            }
            break
        }
        await finish(id: id, state: ending.0, error: ending.1)
    }

    func finish(id: String, state: ExecutionState, error: RunnerError?) async {
        do {
            try await store.commit([.updateExecution(
                id: id, state: state.rawValue, startedAt: nil, finishedAt: epochMilliseconds(), error: error?.json)])
        } catch {
            logger.error("cannot journal the end of an execution", metadata: ["exec.id": "\(id)", "error": "\(error)"])
        }
        logger.debug("execution ended", metadata: ["exec.id": "\(id)", "exec.state": "\(state.rawValue)"])
        finished(id: id)
    }

    /// One step, every attempt of it, each attempt its own journal row.
    /// The capsule's declared secrets are read here, at each step, so that a rotation applies at once; one
    /// that is gone fails this step (journaled, pointing at its name).
    func runStep(_ step: Step, execution id: String, context: TemplateContext, secretNames: [String],
                 firstAttempt: Int) async -> StepResult {
        guard let card = catalog.card(layer: step.layer, op: step.op), let supervisor = layers[step.layer] else {
            return .failed(RunnerError(.notFound, "no layer serves \(step.layer).\(step.op)", at: step.pointer))
        }
        let sideEffect = SideEffect(rawValue: card.sideEffect.rawValue) ?? .external
        var row = StepRunRecord(
            executionID: id, stepIndex: step.index, stepID: step.id, attempt: firstAttempt, layer: step.layer,
            op: step.op, sideEffect: sideEffect.rawValue, state: StepRunState.queued.rawValue, input: nil, output: nil,
            error: nil, queuedAt: epochMilliseconds(), dispatchedAt: nil, finishedAt: nil, layerPID: nil,
            pluginVersion: nil, idempotencyKey: sideEffect.isRepeatable ? nil : "\(id)/\(step.id)/1")
        var context = context
        do { context.secrets = try loadSecrets(secretNames) } catch { return journalFailure(&row, error) }
        let input: JSONValue
        let mask = SecretMask(context.secrets)
        do {
            input = try Template.render(step.input, context: context, at: step.pointer.appending("input"))
            try JSONSchema.validate(input, against: card.inputSchema, at: step.pointer.appending("input"))
        } catch {
            return journalFailure(&row, mask.apply(error))
        }
        // The journal keeps the input with each secret written as its template, never its value.
        row.input = context.secrets.isEmpty ? input : Self.journaledInput(step, context: context)
        let rule = step.retry?.rule ?? .default(for: card.effectiveSideEffect)
        let timeout = Duration.milliseconds(step.timeoutMs ?? card.defaultTimeoutMs)
        while true {
            row.state = StepRunState.dispatched.rawValue
            row.dispatchedAt = epochMilliseconds()
            // A repeatable step may be journaled lazily: if the kernel dies first, it is simply run again
            // (an idempotent op too: recovery re-runs it with the same key). Any other step waits until its
            // dispatch is durable, so a crash leaves it marked in flight.
            if card.effectiveSideEffect.isRepeatable {
                store.submit([.upsertStepRun(row)])
            } else {
                do { try await store.commit([.upsertStepRun(row)]) } catch {
                    return .failed(RunnerError(.internal, "cannot journal step \(step.id): \(error)", at: step.pointer))
                }
            }
            let (outcome, receipt) = await supervisor.call(
                op: step.op, input: input, timeout: timeout, idempotencyKey: row.idempotencyKey, traceID: id)
            row.finishedAt = epochMilliseconds()
            row.layerPID = receipt.pid.map(Int.init)
            row.pluginVersion = receipt.version
            switch outcome {
            case .ok(let rawOutput, _):
                let output = mask.apply(rawOutput)
                row.state = StepRunState.ok.rawValue
                row.output = output
                store.submit([.upsertStepRun(row)])
                return .ok(output)
            case .failed(let rawFailure):
                let failure = mask.apply(rawFailure)
                // Stopping past the drain timeout: the attempt stays "dispatched" in the journal, so that the
                // next start re-runs it (repeatable) or marks it unknown (write/external), as after a crash.
                if isAbandoning { return .abandoned }
                row.state = Self.stepState(for: failure.code).rawValue
                row.error = RunnerError(failure).json
                store.submit([.upsertStepRun(row)])
                if Task.isCancelled { return .cancelled }
                // The attempt number is absolute, so a restart of jalmd does not renew the retry budget.
                guard let delay = rule.delay(after: row.attempt, code: failure.code, retryable: failure.retryable,
                                             unit: Double.random(in: 0..<1)) else {
                    var error = RunnerError(failure)
                    error.pointer = step.pointer.description
                    error.message = "step \(step.id) (\(step.layer).\(step.op)) failed: \(failure.message)"
                    return .failed(error)
                }
                do { try await Task.sleep(for: delay) } catch { return .cancelled }
                row.attempt += 1
                row.output = nil
                row.error = nil
            }
        }
    }

    /// The step's input rendered with every `{{ secrets.NAME }}` left as that text.
    static func journaledInput(_ step: Step, context: TemplateContext) -> JSONValue {
        var masked = context
        masked.secrets = context.secrets.reduce(into: [:]) { $0[$1.key] = "{{ secrets.\($1.key) }}" }
        return (try? Template.render(step.input, context: masked, at: step.pointer.appending("input"))) ?? .null
    }

    private func journalFailure(_ row: inout StepRunRecord, _ error: RunnerError) -> StepResult {
        row.state = StepRunState.error.rawValue
        row.error = error.json
        row.finishedAt = epochMilliseconds()
        store.submit([.upsertStepRun(row)])
        return .failed(error)
    }

    static func stepState(for code: ErrorCode) -> StepRunState {
        switch code {
        case .timeout: .timedOut
        case .cancelled: .cancelled
        default: .error
        }
    }
}
