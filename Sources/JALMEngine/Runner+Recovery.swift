import JALMCapsule
import JALMCore
import JALMDocument
import JALMStore
import JALMWire

extension Runner {
    /// After a restart: every execution the journal has not seen end is folded from its events and told
    /// `recovered`; its machine decides what to redo. One that cannot be read any more (a capsule the
    /// catalog no longer allows, an event this jalmd does not know) ends failed, saying why.
    public func recover() async {
        defer { markRecovered() }
        let unfinished: [StoredExecution]
        do { unfinished = try journal.claimUnfinished() } catch {
            logger.error("cannot read unfinished executions", metadata: ["error": "\(error)"])
            return
        }
        for stored in unfinished { resume(stored) }
        if !unfinished.isEmpty {
            logger.notice("resumed unfinished executions", metadata: ["engine.resumed": "\(unfinished.count)"])
        }
    }

    func resume(_ stored: StoredExecution) {
        let machine: ExecutionMachine
        do {
            machine = try fold(stored)
        } catch {
            return giveUp(stored, RunnerError(.internal, "cannot resume after a restart: \(error.message)"))
        }
        let x = LiveExecution(header: .init(id: stored.id, intent: stored.intent, idempotencyKey: stored.idempotencyKey),
                              plan: machine.plan, document: stored.document, owner: stored.owner, machine: machine,
                              created: true)
        x.state.withLock { $0.summary = stored.summary }
        _ = register(x, key: stored.idempotencyKey)
        deliver(.recovered(at: now()), to: x)
    }

    /// The machine of a stored execution, its events folded.
    func fold(_ stored: StoredExecution) throws(RunnerError) -> ExecutionMachine {
        let capsule = try CapsuleParser.parse(Document.parse(stored.document, contentType: nil),
                                              defaultOps: catalog.defaultOps)
        let plan = try Plan(capsule: capsule, catalog: catalog)
        var machine = ExecutionMachine(id: stored.id, plan: plan)
        var entries: [JournalEntry] = []
        entries.reserveCapacity(stored.events.count)
        for record in stored.events { entries.append(try JournalEntry(record: record, plan: plan)) }
        machine.fold(entries)
        return machine
    }

    /// Ends a stored execution that cannot be folded, with `error`.
    func giveUp(_ stored: StoredExecution, _ error: RunnerError) {
        let at = now()
        let seq = (stored.events.last?.seq ?? 0) + 1
        let record = ExecutionEvent.finishedRecord(seq: seq, at: at, state: .failed, error: error)
        var summary = stored.summary
        summary.state = ExecutionState.failed.rawValue
        summary.finishedAt = at
        summary.error = error.json
        logger.error("cannot resume an execution; it ends failed", metadata: ["exec.id": "\(stored.id)", "error": "\(error)"])
        journal.write(.append(executionID: stored.id, owner: stored.owner, events: [record], summary: summary),
                      durability: .group)
    }
}
