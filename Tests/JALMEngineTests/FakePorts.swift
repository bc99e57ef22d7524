import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Synchronization

/// The runner's ports as plain in-memory fakes: the journal keeps what is written, the layers answer as a
/// test tells them, timers fire when the test says, secrets come from a dictionary.

final class FakeJournal: Journal, Sendable {
    struct Row {
        var execution: StoredExecution
        var fence: FencingToken
    }
    struct State {
        var rows: [String: Row] = [:]
        var order: [String] = []
        /// Completions held until `release()` (when `hold` is set).
        var held: [@Sendable () -> Void] = []
        var hold = false
        /// The next write fails with this error.
        var failNext: RunnerError?
        var writes = 0
    }
    let state = Mutex(State())
    let owner: FencingToken

    init(owner: FencingToken = FencingToken(1)) { self.owner = owner }

    func write(_ writes: [JournalWrite], durability: Durability, completion: (@Sendable (RunnerError?) -> Void)?) {
        let (error, hold) = state.withLock { s -> (RunnerError?, Bool) in
            s.writes += 1
            if let e = s.failNext { s.failNext = nil; return (e, false) }
            for w in writes {
                switch w {
                case .create(let x, let events, let summary):
                    if let key = x.idempotencyKey, s.rows.values.contains(where: { $0.execution.idempotencyKey == key }) {
                        return (RunnerError(.conflict, "key taken"), false)
                    }
                    s.rows[x.id] = Row(execution: StoredExecution(
                        id: x.id, intent: x.intent, summary: summary, createdAt: x.createdAt,
                        idempotencyKey: x.idempotencyKey, document: x.document, events: events, owner: owner), fence: owner)
                    s.order.append(x.id)
                case .append(let id, let fence, let events, let summary):
                    guard var row = s.rows[id] else { return (RunnerError(.notFound, "no \(id)"), false) }
                    guard row.fence == fence else { return (RunnerError(.conflict, "stale"), false) }
                    precondition(events.first.map { $0.seq == (row.execution.events.last?.seq ?? 0) + 1 } ?? true,
                                 "a gap in the history of \(id)")
                    row.execution.events += events
                    if let summary { row.execution.summary = summary }
                    s.rows[id] = row
                }
            }
            return (nil, s.hold)
        }
        guard let completion else { return }
        if hold { state.withLock { $0.held.append { completion(error) } } } else { completion(error) }
    }

    /// Runs the held completions, as a group commit would.
    func release() {
        let held = state.withLock { s in defer { s.held = [] }; return s.held }
        held.forEach { $0() }
    }

    func flush() async throws(RunnerError) { release() }

    func claimUnfinished() throws(RunnerError) -> [StoredExecution] {
        state.withLock { s in
            s.order.compactMap { s.rows[$0]?.execution }.filter { ["pending", "running"].contains($0.summary.state) }
        }
    }

    func execution(id: String) throws(RunnerError) -> StoredExecution? { state.withLock { $0.rows[id]?.execution } }

    func list(state st: String?, limit: Int, cursor: String?) throws(RunnerError) -> ExecutionPage {
        let items = state.withLock { s in
            s.order.reversed().compactMap { s.rows[$0]?.execution }.filter { st == nil || $0.summary.state == st }
                .map { ExecutionListItem(id: $0.id, intent: $0.intent, state: $0.summary.state, createdAt: $0.createdAt,
                                         finishedAt: $0.summary.finishedAt) }
        }
        return ExecutionPage(items: Array(items.prefix(limit)), nextCursor: nil)
    }

    func submission(idempotencyKey key: String, notBefore: Int64) throws(RunnerError) -> KeyedSubmission? {
        state.withLock { s in
            s.rows.values.first { $0.execution.idempotencyKey == key && $0.execution.createdAt >= notBefore }
                .map { KeyedSubmission(executionID: $0.execution.id, document: $0.execution.document,
                                       createdAt: $0.execution.createdAt) }
        }
    }

    /// The kinds of execution `id`'s events.
    func kinds(_ id: String) -> [String] { state.withLock { $0.rows[id]?.execution.events.map(\.kind) ?? [] } }

    /// A journal that a crashed runner left: the same rows, a new owner.
    func reopened() -> FakeJournal {
        let next = FakeJournal(owner: FencingToken(owner.value + 1))
        state.withLock { s in
            next.state.withLock { n in
                n.rows = s.rows.mapValues { row in
                    var row = row
                    if ["pending", "running"].contains(row.execution.summary.state) {
                        row.fence = next.owner
                        row.execution.owner = next.owner
                    }
                    return row
                }
                n.order = s.order
            }
        }
        return next
    }
}

final class FakeLayers: LayerDispatch, Sendable {
    struct Sent {
        var call: LayerCall
        var completion: @Sendable (LayerReply) -> Void
        var cancelled = false
    }
    let sent = Mutex<[Sent]>([])
    /// When set, every call is answered at once with this (its input echoed for `.ok(nil)`).
    let autoReply = Mutex<(@Sendable (LayerCall) -> LayerReply)?>(nil)

    func dispatch(_ call: LayerCall, completion: @escaping @Sendable (LayerReply) -> Void) -> CallHandle {
        if let reply = autoReply.withLock({ $0 }) {
            completion(reply(call))
            return CallHandle(cancel: {})
        }
        let index = sent.withLock { s in
            s.append(Sent(call: call, completion: completion))
            return s.count - 1
        }
        return CallHandle(cancel: { [self] in sent.withLock { $0[index].cancelled = true } })
    }

    var announcedOps: Set<String> { Set(Fixtures.catalog.cards.map(\.qualifiedName)) }
    var announcedOpsGeneration: UInt64 { 0 }

    /// Answers call `i`.
    func reply(_ i: Int, _ outcome: LayerReply.Outcome, pid: Int = 9) {
        let completion = sent.withLock { $0[i].completion }
        completion(LayerReply(outcome, receipt: Receipt(pid: pid, version: "fake")))
    }

    var calls: [LayerCall] { sent.withLock { $0.map(\.call) } }
    func wasCancelled(_ i: Int) -> Bool { sent.withLock { $0[i].cancelled } }
}

final class FakeTimers: TimerPort, Sendable {
    let pending = Mutex<[(id: Int, delay: Duration, action: @Sendable () -> Void)]>([])
    let nextID = Atomic<Int>(0)

    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        pending.withLock { $0.append((id, delay, action)) }
        return { [self] in pending.withLock { $0.removeAll { $0.id == id } } }
    }

    /// Fires every timer due within `delay` (0: those due at once), in order.
    func fire(upTo delay: Duration = .seconds(1)) {
        let due = pending.withLock { p in
            let d = p.filter { $0.delay <= delay }
            p.removeAll { $0.delay <= delay }
            return d
        }
        due.forEach { $0.action() }
    }

    var count: Int { pending.withLock { $0.count } }
}

struct FakeSecrets: SecretSource {
    var values: [String: String] = [:]
    func value(of name: String) throws(RunnerError) -> String {
        guard let v = values[name] else { throw RunnerError(.notFound, "secret \(name) is not set") }
        return v
    }
}
