import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// The one place where an execution's life is decided: a pure machine. Inputs (a call came back, a timer
/// fired, a cancel, the journal caught up, a restart) go in; commands (journal these events, make this
/// call, start this timer, tell the submitter) come out. No I/O, no clock, no randomness: time and jitter
/// arrive with the inputs.
///
/// The state changes only by applying events (`State.apply`). Live, the machine decides events and
/// applies them; after a crash, the runtime folds the journaled events and sends `recovered`. Both go
/// through the same code, so a step's fate cannot depend on whether jalmd restarted in between.
public struct ExecutionMachine: Sendable {
    public let id: String
    public let plan: Plan
    public internal(set) var state: State

    /// Commands held until the event of `seq` is on disk.
    var deferred: [(seq: Int, command: Deferred)] = []

    enum Deferred: Sendable, Hashable {
        case dispatch(step: StepRef, attempt: Int)
        case acknowledge
        case finished
    }

    /// What one `handle` produces, gathered before it is returned.
    struct Output {
        var entries: [JournalEntry] = []
        var durable = false
        var commands: [MachineCommand] = []
    }
    var output = Output()

    /// Blocks being looked at (`settle`), and those whose look must be repeated: transient, never state.
    var settling: Set<StepRef> = []
    var unsettled: Set<StepRef> = []
    /// Calls whose cancel was asked, so that it is asked once.
    var cancelling: Set<StepRef> = []

    /// The dry run a new execution asks for; journaled with its submission (a folded one takes it from there).
    let requestedDryRun: Bool

    public init(id: String, plan: Plan, dryRun: Bool = false) {
        self.id = id
        self.plan = plan
        self.requestedDryRun = dryRun
        self.state = State(stepCount: plan.steps.count)
    }

    /// Folds a history read back from the journal; everything in it is durable.
    public mutating func fold(_ entries: [JournalEntry]) {
        for entry in entries { state.apply(entry, plan: plan) }
        state.durableSeq = state.lastSeq
    }

    /// Decides what an input means. The commands are to be carried out in order; a `journal` command
    /// comes first and holds every event the input produced.
    public mutating func handle(_ input: MachineInput) -> [MachineCommand] {
        output = Output()
        switch input {
        case .start(let acknowledge, let at): start(acknowledge: acknowledge, at: at)
        case .stepReturned(let i, let n, let outcome, let jitter, let at):
            stepReturned(i, attempt: n, outcome, jitter: jitter, at: at)
        case .retryDue(let i, let n, let at): retryDue(i, attempt: n, at: at)
        case .cancel(let at): cancel(at: at)
        case .deadline(let at): deadline(at: at)
        case .journaled(let seq, let at): journaled(upTo: seq, at: at)
        case .recovered(let at): recovered(at: at)
        }
        var commands: [MachineCommand] = []
        if !output.entries.isEmpty { commands.append(.journal(output.entries, output.durable ? .durable : .group)) }
        commands += output.commands
        output = Output()
        return commands
    }

    // MARK: recording

    /// Applies `event` and journals it (`journal` nil: applied only, for a dispatch whose result will say
    /// when it happened). Returns its seq.
    @discardableResult
    mutating func record(_ event: ExecutionEvent, at: Int64, journal: Durability? = .group) -> Int {
        guard let journal else {
            state.apply(JournalEntry(seq: 0, at: at, event: event), plan: plan)
            return state.lastSeq
        }
        let entry = JournalEntry(seq: state.lastSeq + 1, at: at, event: event)
        state.apply(entry, plan: plan)
        output.entries.append(entry)
        if journal == .durable { output.durable = true }
        return entry.seq
    }

    /// Holds `command` until the events recorded so far are on disk.
    mutating func deferUntilDurable(_ command: Deferred) {
        deferred.append((state.lastSeq, command))
    }

    mutating func emit(_ command: MachineCommand) { output.commands.append(command) }

    // MARK: lifecycle

    mutating func start(acknowledge: Bool, at: Int64) {
        guard state.phase == .pending, state.lastSeq == 0 else { return }
        record(.submitted(startsNow: true, dryRun: requestedDryRun), at: at, journal: acknowledge ? .durable : .group)
        if acknowledge { deferUntilDurable(.acknowledge) }
        if let due = deadlineAt { emit(.startDeadline(at: due)) }
        advance(.root, at: at)
    }

    mutating func journaled(upTo seq: Int, at: Int64) {
        state.durableSeq = max(state.durableSeq, seq)
        let due = deferred.filter { $0.seq <= seq }
        deferred.removeAll { $0.seq <= seq }
        for (_, command) in due {
            switch command {
            case .dispatch(let i, let n):
                guard state.status(of: i) == .awaitingJournal(attempt: n) else { continue }
                state[i].status = .running(attempt: n)
                emit(.dispatch(call(i, attempt: n)))
            case .acknowledge:
                emit(.acknowledge)
            case .finished:
                if case .finished(let s, let e) = state.phase { emit(.finished(s, e)) }
            }
        }
    }

    /// Ends the execution: its end is journaled durably, and announced once it is on disk.
    /// A failed or cancelled execution with steps to undo compensates first.
    mutating func end(_ final: ExecutionState, _ error: RunnerError?, at: Int64) {
        guard !state.phase.isFinished else { return }
        // A dispatch still waiting for the journal never goes out now.
        deferred.removeAll { if case .dispatch = $0.command { true } else { false } }
        if compensateBeforeEnding(final, error, at: at) { return }
        closeOpenBlocks(at: at)
        record(.finished(state: final, error: error), at: at, journal: .durable)
        deferUntilDurable(.finished)
    }

    /// A block still open when the execution ends (one inside a block that failed under `fail_fast`, or
    /// any block at a cancel) ends `cancelled`, so that no view shows a finished execution with a block
    /// still running.
    mutating func closeOpenBlocks(at: Int64) {
        let open = state.blocks.keys.filter { state.status(of: $0) == .open }
        for ref in open.sorted(by: { $0.node != $1.node ? $0.node < $1.node : $0.path.lexicographicallyPrecedes($1.path) }) {
            record(.stepFailed(step: ref, attempt: 1, state: .cancelled, dispatchedAt: state[ref].attempts.last?.dispatchedAt,
                               receipt: Receipt(), error: RunnerError(.cancelled, "not finished: the execution ended"),
                               retryAt: nil), at: at)
        }
    }

    /// The outputs of the steps outside any foreach that ended ok, by step id.
    public var outputs: [String: JSONValue] { outputs(seenFrom: nil) }

    /// The vars the steps outside any foreach see now.
    public var vars: [String: JSONValue] { vars(seenFrom: nil) }

    /// The runs of steps a step run sees, in document order: every step outside any foreach, and inside
    /// the foreach blocks around `ref`, the steps of the same iteration. `nil`: from outside every foreach.
    func visible(from ref: StepRef?) -> [(id: String, progress: StepProgress, step: PlanStep)] {
        let loops = ref.map { plan.steps[$0.node].loops } ?? []
        var out: [(id: String, progress: StepProgress, step: PlanStep)] = []
        for (m, step) in plan.steps.enumerated() where step.undoes == nil && step.fetchesFor == nil {
            let depth = step.loops.count
            guard depth <= loops.count, step.loops == Array(loops.prefix(depth)) else { continue }
            let path = depth == 0 ? [] : Array(ref!.path.prefix(depth))
            out.append((step.step.id, state[StepRef(node: m, path: path)], step))
        }
        return out
    }

    /// The outputs a step run reads: the visible steps that ended ok, by id.
    func outputs(seenFrom ref: StepRef?) -> [String: JSONValue] {
        var o: [String: JSONValue] = [:]
        if !plan.hasBlocks {
            for (i, s) in state.steps.enumerated() where s.status == .ok { o[plan.steps[i].address] = s.output ?? .null }
            return o
        }
        for v in visible(from: ref) where v.progress.status == .ok { o[v.id] = v.progress.output ?? .null }
        return o
    }

    /// The vars a step run sees: the capsule's, with what the visible set steps that ran assigned, in order.
    func vars(seenFrom ref: StepRef?) -> [String: JSONValue] {
        guard plan.hasSetSteps else { return plan.capsule.vars }
        var v = plan.capsule.vars
        for seen in visible(from: ref) where seen.progress.status == .ok && seen.step.step.set != nil {
            for (name, value) in seen.progress.output?.objectValue ?? [:] { v[name] = value }
        }
        return v
    }

    /// The item and index of each foreach around `ref`, by their names (the innermost wins).
    func locals(of ref: StepRef) -> [String: JSONValue] {
        let loops = plan.steps[ref.node].loops
        guard !loops.isEmpty else { return [:] }
        var l: [String: JSONValue] = [:]
        for (j, loop) in loops.enumerated() {
            guard case .foreach(let f)? = plan.steps[loop].step.block else { continue }
            let k = ref.path[j]
            let items = state.blocks[StepRef(node: loop, path: Array(ref.path.prefix(j)))]?.items ?? []
            l[f.itemName] = k < items.count ? items[k] : .null
            l[Foreach.indexName] = .int(Int64(k))
        }
        return l
    }

    /// The visible steps that failed under `on_error: continue`: their last attempt's state and error.
    func continuedAfterFailure(seenFrom ref: StepRef?) -> [String: (state: String, error: JSONValue)] {
        var failed: [String: (state: String, error: JSONValue)] = [:]
        for v in visible(from: ref) where v.progress.status == .continued || v.progress.fallback == .running {
            let last = v.progress.attempts.last
            failed[v.id] = (last?.state.rawValue ?? "error", last?.error?.json ?? .null)
        }
        return failed
    }

    func skipped(seenFrom ref: StepRef?) -> Set<String> {
        Set(visible(from: ref).filter { $0.progress.status == .skipped }.map(\.id))
    }

    /// The context a step run's templates render in.
    func templateContext(for ref: StepRef) -> TemplateContext {
        TemplateContext(vars: vars(seenFrom: ref), stepOutputs: outputs(seenFrom: ref), locals: locals(of: ref))
    }

    func call(_ i: StepRef, attempt n: Int) -> StepCall {
        let step = plan.steps[i.node]
        // A constant input reads no output: spare building them.
        let reads: Bool = if case .constant = step.input { false } else { true }
        return StepCall(step: i, attempt: n,
                        idempotencyKey: step.idempotencyKey(execution: id, address: i.path.isEmpty ? nil : plan.address(of: i)),
                        timeoutMs: step.timeoutMs, outputs: reads ? outputs(seenFrom: i) : [:], vars: vars(seenFrom: i),
                        locals: locals(of: i), dryRun: state.dryRun, inputPatch: pagingPatch(i))
    }

    /// The paging inputs of a paged foreach's source step (its first page) or of its fetch (the next page,
    /// from where the last one ended).
    func pagingPatch(_ i: StepRef) -> JSONValue? {
        guard let paging = plan.steps[i.node].paging else { return nil }
        guard plan.steps[i.node].fetchesFor != nil else { return paging.patch(cursor: nil) }
        return paging.patch(cursor: state.blocks[StepRef(node: paging.loop, path: Array(i.path.dropLast()))]?.cursor ?? .null)
    }
}
