import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// Blocks: a switch runs one case, a foreach its body once per item (at most `concurrency` at once), a
/// parallel its branches at once. A block starts with one journaled event (the case chosen, the items),
/// and ends as a step does: ok with an output made of its sequences', or failed with the error of the
/// step inside it that failed (after which its `on_error` applies, as for a step).
extension ExecutionMachine {
    mutating func startBlock(_ ref: StepRef, at: Int64) {
        let step = plan.steps[ref.node]
        switch step.step.block! {
        case .switch(let cases):
            let choice: Int?
            do { choice = try chooseCase(ref, cases) } catch {
                record(.stepFailed(step: ref, attempt: 1, state: .error, dispatchedAt: nil, receipt: Receipt(),
                                   error: error, retryAt: nil), at: at)
                return
            }
            record(.blockStarted(step: ref, choice: choice, items: nil), at: at)
            guard let choice else { return settle(ref, at: at) }
            advance(Scope(sequence: step.children[choice], path: ref.path), at: at)
        case .foreach(let f) where f.source != nil:
            // Its first page is its source step's output, read when this event is applied.
            record(.blockStarted(step: ref, choice: nil, items: nil), at: at)
            settle(ref, at: at)
        case .foreach:
            let items: [JSONValue]
            do { items = try foreachItems(ref) } catch {
                record(.stepFailed(step: ref, attempt: 1, state: .error, dispatchedAt: nil, receipt: Receipt(),
                                   error: error, retryAt: nil), at: at)
                return
            }
            record(.blockStarted(step: ref, choice: nil, items: items), at: at)
            settle(ref, at: at)
        case .parallel:
            record(.blockStarted(step: ref, choice: nil, items: nil), at: at)
            settling.insert(ref)
            for sequence in step.children { advance(Scope(sequence: sequence, path: ref.path), at: at) }
            settling.remove(ref)
            settle(ref, at: at)
        }
    }

    /// The first case whose `when` holds (or the default); nil when none.
    func chooseCase(_ ref: StepRef, _ cases: [SwitchCase]) throws(RunnerError) -> Int? {
        let root = conditionRoot(for: ref)
        for (k, c) in cases.enumerated() {
            guard let when = c.when else { return k }
            if try StepCondition.holds(when, of: plan.steps[ref.node].step.id, at: c.pointer.appending("when"), over: root) {
                return k
            }
        }
        return nil
    }

    /// A foreach's items, rendered over what it sees: a list of at most `Foreach.maxItems`.
    func foreachItems(_ ref: StepRef) throws(RunnerError) -> [JSONValue] {
        let step = plan.steps[ref.node].step
        let value = try Template.render(plan.steps[ref.node].input, context: templateContext(for: ref))
        let at = step.pointer.appending("foreach")
        guard case .array(let items) = value else {
            throw RunnerError(.invalidInput, "foreach must give a list, got \(value.typeName)", at: at)
        }
        guard items.count <= Foreach.maxItems else {
            throw RunnerError(.resourceExhausted, "foreach gave \(items.count) items; a foreach takes at most "
                              + "\(Foreach.maxItems)", at: at)
        }
        return items
    }

    /// Looks at a block after something inside it moved: starts what may start, ends it when its
    /// sequences are done or, after a failure, when nothing inside it is out any more.
    mutating func settle(_ ref: StepRef, at: Int64) {
        guard state.phase == .running, state.status(of: ref) == .open else { return }
        // Starting an iteration or a branch may end it at once, which settles this block again: the loop
        // below sees that, rather than a call inside a call for each item.
        guard settling.insert(ref).inserted else {
            unsettled.insert(ref)
            return
        }
        defer { settling.remove(ref) }
        repeat {
            unsettled.remove(ref)
            if settleOnce(ref, at: at) { return }
        } while unsettled.contains(ref)
    }

    /// One look at a block; true when it ended.
    private mutating func settleOnce(_ ref: StepRef, at: Int64) -> Bool {
        if state.fallback(of: ref) == .running { return settleFallback(ref, at: at) }
        let step = plan.steps[ref.node]
        switch step.step.block! {
        case .switch:
            let scopes = innerScopes(ref)
            guard let scope = scopes.first else { return finish(ref, output: .null, at: at) }
            guard let cursor = cursor(scope) else { return finish(ref, output: lastOutput(scope), at: at) }
            if state.status(of: cursor) == .failed { return fail(ref, because: cursor, at: at) }
            return false
        case .parallel(let branches, let failFast):
            let scopes = innerScopes(ref)
            let cursors = scopes.map { cursor($0) }
            let failed = firstFailure(cursors.compactMap { $0 }.filter { state.status(of: $0) == .failed })
            if let failed {
                if failFast { stopInside(ref, at: at) }
                let waiting = !failFast && cursors.contains { $0.map { !state.status(of: $0).isEnded } ?? false }
                guard !waiting, !hasCallsOut(inside: ref) else { return false }
                return fail(ref, because: failed, at: at)
            }
            guard cursors.allSatisfy({ $0 == nil }) else { return false }
            var output: [String: JSONValue] = [:]
            for (b, branch) in branches.enumerated() { output[branch.name] = lastOutput(scopes[b]) }
            return finish(ref, output: .object(output), at: at)
        case .foreach(let f):
            guard let progress = state.blocks[ref] else { return false }
            let count = progress.items.count
            let paged = f.source != nil
            let pagesToCome = paged && !progress.exhausted
            if paged, let failure = pagingFailure(ref, progress) {
                stopInside(ref, at: at)
                guard !hasCallsOut(inside: ref) else { return false }
                return fail(ref, because: failure.step, error: failure.error, at: at)
            }
            if progress.failed > 0 {
                if f.failFast { stopInside(ref, at: at) }
                let more = !f.failFast && (progress.done + progress.failed < count || pagesToCome)
                if more { launchIterations(ref, f, at: at); fetchNextPage(ref, at: at) }
                guard !more, !hasCallsOut(inside: ref), f.failFast || progress.active.isEmpty else { return false }
                return fail(ref, because: firstFailedIteration(ref), at: at)
            }
            if progress.done == count && !pagesToCome {
                let output: JSONValue = paged ? ["pages": .int(Int64(count)), "items": .int(Int64(progress.rows))]
                    : collected(ref, f, count: count)
                return finish(ref, output: output, at: at)
            }
            launchIterations(ref, f, at: at)
            if paged { fetchNextPage(ref, at: at) }
            return false
        }
    }

    /// A paged foreach fetches its next page once every page it holds has started: so at most
    /// `concurrency` pages and the one being fetched are held at once.
    private mutating func fetchNextPage(_ ref: StepRef, at: Int64) {
        guard state.phase == .running, state.stop == nil, let p = state.blocks[ref], !p.exhausted,
              p.launched == p.items.count, let fetch = plan.steps[ref.node].pageFetch else { return }
        let next = StepRef(node: fetch, path: ref.path + [p.items.count])
        guard state.status(of: next) == .pending else { return }
        advance(Scope(sequence: plan.steps[fetch].sequence, path: next.path), at: at)
    }

    /// Why a paged foreach cannot go on: a page fetch failed for good, or a page's rows do not say where the
    /// next one starts.
    private func pagingFailure(_ ref: StepRef, _ p: BlockProgress) -> (step: StepRef?, error: RunnerError?)? {
        guard let fetch = plan.steps[ref.node].pageFetch, let paging = plan.steps[fetch].paging else { return nil }
        let next = StepRef(node: fetch, path: ref.path + [p.items.count])
        if state.status(of: next) == .failed { return (next, nil) }
        guard !p.exhausted, p.cursor == nil else { return nil }
        let what = paging.kind == .keyset ? "its last row has no \"\(paging.key)\" (items_from key)"
            : "the read gave no next_offset"
        return (nil, RunnerError(.invalidInput, "\(plan.address(of: ref)) cannot fetch its next page: \(what)",
                                 at: plan.steps[ref.node].step.pointer.appending("foreach").appending("items_from")))
    }

    /// Starts iterations in order while fewer than `concurrency` run.
    private mutating func launchIterations(_ ref: StepRef, _ f: Foreach, at: Int64) {
        let body = plan.steps[ref.node].children[0]
        while state.phase == .running, state.stop == nil, let p = state.blocks[ref],
              p.launched < p.items.count, p.active.count < f.concurrency {
            let k = p.launched
            advance(Scope(sequence: body, path: ref.path + [k]), at: at)
            // An iteration always journals something when it starts (its first step's dispatch, skip or
            // failure); if it did not, stop rather than start it again.
            guard (state.blocks[ref]?.launched ?? 0) > k else { return }
        }
    }

    /// The list a foreach gives: each iteration's last step output, or its `collect` step's.
    private func collected(_ ref: StepRef, _ f: Foreach, count: Int) -> JSONValue {
        let body = plan.sequences[plan.steps[ref.node].children[0]]
        guard let node = plan.steps[ref.node].collect ?? body.nodes.last else { return [] }
        var out: [JSONValue] = []
        out.reserveCapacity(count)
        for k in 0..<count { out.append(state[StepRef(node: node, path: ref.path + [k])].output ?? .null) }
        return .array(out)
    }

    /// The step that failed in the iteration that failed first.
    private func firstFailedIteration(_ ref: StepRef) -> StepRef? {
        let body = plan.steps[ref.node].children[0]
        let launched = state.blocks[ref]?.launched ?? 0
        return firstFailure((0..<launched).compactMap { k in
            cursor(Scope(sequence: body, path: ref.path + [k])).flatMap { state.status(of: $0) == .failed ? $0 : nil }
        })
    }

    /// Of failed steps, the one that failed first: the failure that stopped the others (which then end
    /// `cancelled` under `fail_fast`) is the block's error.
    private func firstFailure(_ refs: [StepRef]) -> StepRef? {
        refs.min { (state[$0].attempts.last?.finishedAt ?? .max) < (state[$1].attempts.last?.finishedAt ?? .max) }
    }

    /// The sequences of a block that started: a switch's chosen case, a foreach's iterations started so far,
    /// a parallel's branches; or the fallback, while one runs in place of the block or step.
    func innerScopes(_ ref: StepRef) -> [Scope] {
        if state.fallback(of: ref) == .running, let scope = fallbackScope(of: ref) { return [scope] }
        let step = plan.steps[ref.node]
        switch step.step.block {
        case .switch?:
            guard let k = state.blocks[ref]?.choice else { return [] }
            return [Scope(sequence: step.children[k], path: ref.path)]
        case .foreach?:
            let active = state.blocks[ref]?.active.sorted() ?? []
            return active.map { Scope(sequence: step.children[0], path: ref.path + [$0]) }
        case .parallel?:
            return step.children.map { Scope(sequence: $0, path: ref.path) }
        case nil:
            return []
        }
    }

    private mutating func finish(_ ref: StepRef, output: JSONValue, at: Int64) -> Bool {
        record(.stepSucceeded(step: ref, attempt: 1, dispatchedAt: state[ref].attempts.last?.dispatchedAt ?? at,
                              receipt: Receipt(), output: output), at: at)
        advance(scope(of: ref), at: at)
        return true
    }

    /// Ends a block with the error of the step inside it that failed (or `error`); its own `on_error` applies.
    private mutating func fail(_ ref: StepRef, because inner: StepRef?, error given: RunnerError? = nil, at: Int64) -> Bool {
        var error = given ?? RunnerError(.internal, "a step inside \(plan.address(of: ref)) failed")
        if given == nil, let inner, let last = state[inner].attempts.last { error = endingError(inner, last) }
        record(.stepFailed(step: ref, attempt: 1, state: .error, dispatchedAt: state[ref].attempts.last?.dispatchedAt,
                           receipt: Receipt(), error: error, retryAt: nil, continues: carriesOn(ref),
                           fallback: fallsBack(ref)), at: at)
        moveOn(afterFailureOf: ref, at: at)
        return true
    }

    /// A block with `fail_fast` whose sequence failed stops the rest: calls out inside it are cancelled, a
    /// call waiting for the journal and a retry waiting for its time end here.
    mutating func stopInside(_ ref: StepRef, at: Int64) {
        for inner in state.inFlight.sorted(by: { $0.node < $1.node }) where isInside(inner, ref) {
            stopCall(inner, why: "a step beside it in \(plan.address(of: ref)) failed (fail_fast)", at: at)
        }
    }

    /// Stops one call out: asks the layer to stop a running call (its reply ends it), and ends a call that
    /// never went out or a retry that was waiting.
    mutating func stopCall(_ ref: StepRef, why: String?, at: Int64) {
        switch state.status(of: ref) {
        case .running(let n):
            guard cancelling.insert(ref).inserted else { return }
            emit(.cancelCall(step: ref, attempt: n))
        case .awaitingJournal(let n):
            record(.stepFailed(step: ref, attempt: n, state: .cancelled, dispatchedAt: nil, receipt: Receipt(),
                               error: RunnerError(.cancelled, why.map { "cancelled before the call went out: \($0)" }
                                   ?? (state.stop == .deadline ? "the execution's meta.timeout passed before the call went out"
                                       : "cancelled before the call went out")),
                               retryAt: nil), at: at)
            advance(scope(of: ref), at: at)
        case .retrying(let n, _):
            // The failed attempt stands; its retry is called off.
            guard let last = state[ref].attempts.last(where: { $0.number == n }) else { return }
            record(.stepFailed(step: ref, attempt: n, state: last.state, dispatchedAt: last.dispatchedAt,
                               receipt: last.receipt, error: last.error ?? RunnerError(.cancelled, why ?? "cancelled"), retryAt: nil),
                   at: at)
            advance(scope(of: ref), at: at)
        default:
            break
        }
    }

    /// Some step inside the block has a call out.
    func hasCallsOut(inside ref: StepRef) -> Bool {
        state.inFlight.contains { isInside($0, ref) }
    }

    /// `inner` is a run of a step inside block run `block` (at any depth).
    func isInside(_ inner: StepRef, _ block: StepRef) -> Bool {
        guard inner.path.count >= block.path.count, Array(inner.path.prefix(block.path.count)) == block.path else {
            return false
        }
        var s = plan.steps[inner.node].sequence
        while let owner = plan.sequences[s].owner {
            if owner == block.node { return true }
            s = plan.steps[owner].sequence
        }
        return false
    }

    /// A block around the sequence has failed with `fail_fast`: nothing new starts in it.
    func haltedByFailure(_ scope: Scope) -> Bool {
        var s = scope
        while let block = owner(of: s) {
            // A fallback runs after its block failed: that failure does not halt it.
            if plan.steps[block.node].fallback == s.sequence {
                s = self.scope(of: block)
                continue
            }
            switch plan.steps[block.node].step.block {
            case .parallel(_, true)?:
                if innerScopes(block).contains(where: { c in cursor(c).map { state.status(of: $0) == .failed } ?? false }) {
                    return true
                }
            case .foreach(let f)? where f.failFast:
                if (state.blocks[block]?.failed ?? 0) > 0 { return true }
            default:
                break
            }
            s = self.scope(of: block)
        }
        return false
    }
}
