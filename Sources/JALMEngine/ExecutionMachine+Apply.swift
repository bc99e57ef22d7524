import JALMCore
import JALMWire

extension ExecutionMachine.State {
    /// Folds one event into the state. The only place the state changes: live decisions and recovery both
    /// come here, so a history read back after a crash gives exactly the state the live run had. `plan`
    /// says where each step sits, so that a foreach's counts follow its iterations' events.
    mutating func apply(_ entry: JournalEntry, plan: Plan) {
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
            change(i, plan: plan) { s in
                s.status = .skipped
                s.update(s.nextAttempt) { $0.state = .skipped; $0.finishedAt = at }
            }
        case .blockStarted(let i, let choice, let items):
            var block = ExecutionMachine.BlockProgress()
            block.choice = choice
            block.items = items ?? []
            blocks[i] = block
            // A paged foreach's first page is its source step's output.
            if let source = plan.steps[i.node].pageSource, let paging = plan.steps[source].paging {
                let output = self[StepRef(node: source, path: Array(i.path.prefix(plan.steps[source].loops.count)))].output
                addPage(output ?? ["rows": []], to: i, paging)
            }
            change(i, plan: plan) { s in
                s.status = .open
                s.update(1) { $0.state = .dispatched; $0.dispatchedAt = at }
            }
        case .stepDispatched(let i, let n):
            change(i, plan: plan) { s in
                s.status = .running(attempt: n)
                s.update(n) { $0.state = .dispatched; $0.dispatchedAt = at }
            }
        case .stepSucceeded(let i, let n, let dispatchedAt, let receipt, let output):
            if plan.steps[i.node].compensation != nil { compensable.append(i) }
            if let loop = plan.steps[i.node].fetchesFor, let paging = plan.steps[i.node].paging {
                addPage(output, to: StepRef(node: loop, path: Array(i.path.dropLast())), paging)
            }
            change(i, plan: plan) { s in
                s.status = .ok
                s.output = output
                s.update(n) { a in
                    a.state = .ok
                    a.dispatchedAt = dispatchedAt
                    a.finishedAt = at
                    a.receipt = receipt
                    a.error = nil
                }
            }
        case .stepFailed(let i, let n, let state, let dispatchedAt, let receipt, let error, let retryAt, let continues,
                         let fallback):
            change(i, plan: plan) { s in
                s.status = retryAt.map { .retrying(attempt: n, at: $0) }
                    ?? (continues ? .continued : fallback ? .open : .failed)
                if fallback && retryAt == nil { s.fallback = .running }
                s.update(n) { a in
                    a.state = state
                    a.dispatchedAt = dispatchedAt
                    a.finishedAt = at
                    a.receipt = receipt
                    a.error = error
                }
            }
        case .stepInterrupted(let i, let n):
            change(i, plan: plan) { s in
                s.status = .pending
                s.update(n) { $0.state = .interrupted; $0.finishedAt = at }
            }
        case .stepUnknown(let i, let n, let error):
            change(i, plan: plan) { s in
                s.status = .failed
                s.update(n) { $0.state = .unknown; $0.finishedAt = at; $0.error = error }
            }
        case .fallbackEnded(let i, let output, let error):
            change(i, plan: plan) { s in
                s.status = output == nil ? .failed : .ok
                s.output = output
                s.fallback = error.map { .failed($0) } ?? .ok
            }
        case .compensating(let state, let error):
            compensating = ExecutionMachine.Ending(state: state, error: error)
        case .cancelRequested:
            if stop == nil { stop = .cancel }
        case .deadlinePassed:
            if stop == nil { stop = .deadline }
        case .finished(let state, let error):
            phase = .finished(state, error)
            finishedAt = at
        }
    }

    /// Changes one run of a step in place, and keeps what depends on it: the calls out, the step runs
    /// counted, and the iterations of the foreach blocks around it.
    private mutating func change(_ i: StepRef, plan: Plan, _ body: (inout ExecutionMachine.StepProgress) -> Void) {
        let (before, after, newRun) = Self.edit(&self[i], body)
        switch after {
        case .running, .awaitingJournal, .retrying: inFlight.insert(i)
        default: if !inFlight.isEmpty { inFlight.remove(i) }
        }
        if newRun, blocks.isEmpty || blocks[i] == nil { stepRuns += 1 }
        if !i.path.isEmpty { countIteration(i, from: before, to: after, plan: plan) }
    }

    /// Applies `body` to a run; its status before and after, and whether it added an attempt that counts
    /// as a step run (a skip does not).
    private static func edit(_ s: inout ExecutionMachine.StepProgress, _ body: (inout ExecutionMachine.StepProgress) -> Void)
        -> (ExecutionMachine.StepStatus, ExecutionMachine.StepStatus, Bool)
    {
        let before = s.status
        let attempts = s.attempts.count
        body(&s)
        return (before, s.status, s.attempts.count > attempts && s.attempts.last?.state != .skipped)
    }

    /// A run inside a foreach moved: each foreach around it has that iteration started, and the end of the
    /// last step of an iteration's list (or a failure in it) ends the iteration.
    private mutating func countIteration(_ i: StepRef, from before: ExecutionMachine.StepStatus,
                                         to after: ExecutionMachine.StepStatus, plan: Plan) {
        let step = plan.steps[i.node]
        // A compensation runs after the loops have ended, a page fetch before its iteration: neither is one.
        if step.undoes != nil || step.fetchesFor != nil { return }
        for (j, loop) in step.loops.enumerated() {
            let k = i.path[j]
            let f = StepRef(node: loop, path: Array(i.path.prefix(j)))
            blocks[f, default: .init()].launched = max(blocks[f, default: .init()].launched, k + 1)
            blocks[f, default: .init()].active.insert(k)
        }
        // Only a step right in a foreach's body, ending now, ends an iteration.
        guard let owner = plan.sequences[step.sequence].owner, owner == step.loops.last, !before.isEnded else { return }
        let f = StepRef(node: owner, path: Array(i.path.dropLast()))
        let k = i.path[i.path.count - 1]
        if after == .failed {
            blocks[f]?.failed += 1
            blocks[f]?.active.remove(k)
        } else if after.letsSequenceOn, plan.sequences[step.sequence].nodes.last == i.node {
            blocks[f]?.done += 1
            blocks[f]?.active.remove(k)
            if plan.steps[owner].pageFetch != nil { letGo(of: k, in: f, plan: plan) }
        }
    }

    /// A paged foreach's page: its rows are the next iteration's item; an empty page or a short one is the
    /// last.
    mutating func addPage(_ output: JSONValue, to f: StepRef, _ paging: Paging) {
        let (rows, cursor, last) = paging.read(output)
        if !rows.isEmpty {
            blocks[f]?.items.append(.array(rows))
            blocks[f]?.rows += rows.count
        }
        blocks[f]?.cursor = cursor
        if last || rows.isEmpty { blocks[f]?.exhausted = true }
    }

    /// A paged foreach forgets an iteration that ended ok: its page and its steps' runs. So a loop over a
    /// million rows holds only the pages in flight, live or folded after a crash.
    private mutating func letGo(of k: Int, in f: StepRef, plan: Plan) {
        blocks[f]?.items[k] = .null
        blocks[f]?.pruned.insert(k)
        for node in plan.steps[f.node].iterationNodes {
            let ref = StepRef(node: node, path: f.path + [k])
            looped[ref] = nil
            blocks[ref] = nil
        }
    }
}
