import JALMCore
import JALMWire

/// One change to the journal. A batch of them given to `Store.submit` or `Store.commit` is applied
/// all-or-nothing, in order.
public enum StoreWrite: Sendable, Hashable {
    /// A new execution; fails if the id exists.
    case insertExecution(ExecutionRecord)
    /// Sets the state of execution `id`; a nil time or error leaves the stored value unchanged.
    /// Fails with `not_found` if there is no such execution.
    case updateExecution(id: String, state: String, startedAt: Int64?, finishedAt: Int64?, error: JSONValue?)
    /// Inserts or replaces the row of (execution, step index, attempt): the runtime rewrites the same attempt
    /// when it is queued, dispatched and finished. Fails if the execution does not exist (foreign key).
    case upsertStepRun(StepRunRecord)
    /// Appends a layer event.
    case layerEvent(LayerEventRecord)
}

extension StoreWrite {
    static let insertExecutionSQL = "INSERT INTO executions (\(ExecutionRecord.columns)) "
        + "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    static let updateExecutionSQL = """
        UPDATE executions SET state = ?2, started_at = COALESCE(?3, started_at),
            finished_at = COALESCE(?4, finished_at), error = COALESCE(?5, error)
        WHERE id = ?1
        """
    static let upsertStepRunSQL = "INSERT OR REPLACE INTO step_runs (\(StepRunRecord.columns)) VALUES ("
        + (1...17).map { "?\($0)" }.joined(separator: ", ") + ")"
    static let layerEventSQL = "INSERT INTO layer_events (\(LayerEventRecord.columns)) VALUES (?1, ?2, ?3, ?4)"

    /// Applies the write on `db`, inside the caller's transaction.
    func apply(on db: SQLiteConnection) throws(RunnerError) {
        switch self {
        case .insertExecution(let r):
            try db.run(Self.insertExecutionSQL, [
                .text(r.id), .text(r.intent), .text(r.state), .text(r.capsule), .integer(r.createdAt),
                .integer(r.startedAt), .integer(r.finishedAt), .json(r.error), .integer(Int64(r.priority)),
            ])
        case .updateExecution(let id, let state, let startedAt, let finishedAt, let error):
            try db.run(Self.updateExecutionSQL,
                       [.text(id), .text(state), .integer(startedAt), .integer(finishedAt), .json(error)])
            guard db.changes == 1 else { throw RunnerError(.notFound, "no execution \(id) to update") }
        case .upsertStepRun(let r):
            try db.run(Self.upsertStepRunSQL, r.values)
        case .layerEvent(let e):
            try db.run(Self.layerEventSQL, [.integer(e.at), .text(e.layer), .text(e.event), .json(e.detail)])
        }
    }
}
