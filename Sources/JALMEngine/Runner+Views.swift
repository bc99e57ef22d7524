import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

extension Runner {
    /// An execution as `GET /exec/{id}` shows it: from memory while it runs, folded from the journal after.
    public func view(id: String) throws(RunnerError) -> ExecutionSnapshot {
        guard ExecutionID.isValid(id) else { throw RunnerError(.notFound, "no execution \(id)") }
        if let x = live(id) { return x.snapshot }
        guard let stored = try journal.execution(id: id) else { throw RunnerError(.notFound, "no execution \(id)") }
        return snapshot(of: stored)
    }

    func snapshot(of stored: StoredExecution) -> ExecutionSnapshot {
        let header = ExecutionView.Header(id: stored.id, intent: stored.intent, idempotencyKey: stored.idempotencyKey)
        if let machine = try? fold(stored) { return ExecutionSnapshot(header, machine: machine) }
        // A capsule the catalog no longer allows: its summary, without the steps.
        let s = stored.summary
        var view = ExecutionView.summary(id: stored.id, intent: stored.intent, state: s.state,
                                         createdAt: stored.createdAt, finishedAt: s.finishedAt)
        view["started_at"] = s.startedAt.map { .int($0) } ?? .null
        view["error"] = s.error ?? .null
        view["steps"] = []
        view["outputs"] = [:]
        return ExecutionSnapshot(header, summary: .object(view))
    }

    /// `GET /exec`: newest first, keyset-paginated.
    public func list(state: String?, limit: Int, cursor: String?) throws(RunnerError) -> JSONValue {
        if let state, ExecutionState(rawValue: state) == nil {
            throw RunnerError(.invalidInput, "unknown state \"\(state)\"; states are: "
                + ExecutionState.allCases.map(\.rawValue).joined(separator: ", "), pointer: "/state")
        }
        guard (1...1000).contains(limit) else {
            throw RunnerError(.invalidInput, "limit must be from 1 to 1000", pointer: "/limit")
        }
        let page = try journal.list(state: state, limit: limit, cursor: cursor)
        return ["items": .array(page.items.map {
                    .object(ExecutionView.summary(id: $0.id, intent: $0.intent, state: $0.state, createdAt: $0.createdAt,
                                                  finishedAt: $0.finishedAt))
                }),
                "next_cursor": page.nextCursor.map { .string($0) } ?? .null]
    }

    /// Asks a running execution to stop, waits (bounded) for it to end, and returns its view.
    public func cancel(id: String) async throws(RunnerError) -> ExecutionSnapshot {
        guard let x = live(id) else {
            guard ExecutionID.isValid(id), let stored = try journal.execution(id: id) else {
                throw RunnerError(.notFound, "no execution \(id)")
            }
            throw RunnerError(.conflict, "execution \(id) already ended (\(stored.summary.state))")
        }
        deliver(.cancel(at: now()), to: x)
        _ = await waitForEnd(id: id, timeout: .seconds(10))
        return try view(id: id)
    }
}
