import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// The runner carrying out a machine's commands: each one an effect through a port, its result coming
/// back as the next input. Nothing here decides what happens to the execution.
extension Runner {
    func perform(_ commands: [MachineCommand], for x: LiveExecution) {
        for command in commands {
            switch command {
            case .journal(let entries, let durability): journal(entries, durability, for: x)
            case .dispatch(let call): dispatch(call, for: x)
            case .cancelCall(let step, _): x.state.withLock { $0.calls[step] }?.cancel()
            case .startTimer(let step, let attempt, let at):
                timers.schedule(after: .milliseconds(max(0, at - now()))) { [self] in
                    deliver(.retryDue(step: step, attempt: attempt, at: now()), to: x)
                }
            case .startDeadline(let at):
                let cancel = timers.schedule(after: .milliseconds(max(0, at - now()))) { [self] in
                    deliver(.deadline(at: Swift.max(now(), at)), to: x)
                }
                // An execution that already ended keeps no timer.
                let ended = x.state.withLock { s in
                    if s.ended == nil { s.cancelDeadline = cancel }
                    return s.ended != nil
                }
                if ended { cancel() }
            case .acknowledge:
                let waiting = x.state.withLock { s in defer { s.acknowledgements = [] }; return s.acknowledgements }
                waiting.forEach { $0.resume(returning: nil) }
            case .finished:
                end(x, abandonedBecause: nil)
            }
        }
    }

    /// Journals the events, with the execution's row when it is the first write and its summary when the
    /// state changed. A durable write tells the machine when it is on disk; a write that fails gives the
    /// execution up (the journal holds what it holds, and the next start resumes from there).
    func journal(_ entries: [JournalEntry], _ durability: Durability, for x: LiveExecution) {
        guard let last = entries.last?.seq else { return }
        let records = entries.map { $0.record(plan: x.plan) }
        let (created, summary) = x.state.withLock { s -> (Bool, ExecutionSummary?) in
            let summary = Self.summary(s.machine.state)
            defer {
                s.created = true
                s.summary = summary
            }
            return (s.created, summary == s.summary ? nil : summary)
        }
        let write: JournalWrite
        if created {
            write = .append(executionID: x.id, owner: x.owner, events: records, summary: summary)
        } else {
            let m = x.state.withLock { $0.machine.state }
            write = .create(NewExecution(id: x.id, intent: x.header.intent, document: x.document,
                                         createdAt: m.createdAt ?? now(), idempotencyKey: x.header.idempotencyKey,
                                         keyWindowStart: now() - settings.idempotencyRetention.milliseconds),
                            events: records, summary: summary ?? Self.summary(m))
        }
        journal.write([write], durability: durability) { [self] error in
            if let error { return end(x, abandonedBecause: error) }
            if durability == .durable { deliver(.journaled(upTo: last, at: now()), to: x) }
        }
    }

    static func summary(_ s: ExecutionMachine.State) -> ExecutionSummary {
        var error: JSONValue?
        if case .finished(_, let e?) = s.phase { error = e.json }
        return ExecutionSummary(state: s.phase.state.rawValue, startedAt: s.startedAt, finishedAt: s.finishedAt,
                                error: error)
    }

    /// Renders the step's input and sends the call; its reply, secrets masked, is the machine's next input.
    func dispatch(_ call: StepCall, for x: LiveExecution) {
        let step = x.plan.steps[call.step.node]
        let prepared: StepInput.Prepared
        do {
            prepared = try StepInput.prepare(step, vars: call.vars, outputs: call.outputs, locals: call.locals, patch: call.inputPatch,
                                             secretNames: x.plan.capsule.secretNames, secrets: secrets)
        } catch {
            return deliver(.stepReturned(step: call.step, attempt: call.attempt, outcome: .refused(error), jitter: 0,
                                         at: now()), to: x)
        }
        let mask = prepared.mask
        let handle = layers.dispatch(LayerCall(
            layer: step.step.layer, op: step.step.op, input: prepared.input, timeout: .milliseconds(call.timeoutMs),
            idempotencyKey: call.idempotencyKey, traceID: x.id, dryRun: call.dryRun)
        ) { [self] reply in
            let outcome: StepOutcome = switch reply.outcome {
            case .ok(let output): .ok(mask.apply(output), reply.receipt)
            case .failed(let failure): .failed(RunnerError(mask.apply(failure)), reply.receipt)
            }
            deliver(.stepReturned(step: call.step, attempt: call.attempt, outcome: outcome, jitter: random(), at: now()),
                    to: x)
        }
        x.state.withLock { $0.calls[call.step] = handle }
    }

    /// The execution is over for this runner: its end is on disk, or (with an error) its journal refused a
    /// write. Wakes whoever waits and forgets it.
    func end(_ x: LiveExecution, abandonedBecause error: RunnerError?) {
        let (acknowledgements, waiters, cancelDeadline) = x.state.withLock { s in
            defer {
                s.acknowledgements = []
                s.endWaiters = [:]
                s.calls = [:]
                s.cancelDeadline = nil
            }
            if s.ended == nil { s.ended = s.machine }
            s.abandoned = error
            return (s.acknowledgements, Array(s.endWaiters.values), s.cancelDeadline)
        }
        cancelDeadline?()
        unregister(x)
        if let error {
            logger.error("the journal refused a write; the execution stops here and resumes from its journal at next start",
                         metadata: ["exec.id": "\(x.id)", "error": "\(error)"])
        }
        acknowledgements.forEach { $0.resume(returning: error) }
        for w in waiters {
            w.cancelTimer?()
            w.continuation.resume()
        }
    }
}
