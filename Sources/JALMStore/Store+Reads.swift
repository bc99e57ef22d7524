import JALMCore

extension Store {
    /// The execution `id`, or nil.
    public func execution(id: String) throws(RunnerError) -> ExecutionRecord? {
        try read { db throws(RunnerError) in
            try db.using("SELECT \(ExecutionRecord.columns) FROM executions WHERE id = ?1") { s throws(RunnerError) in
                try s.bind(id, at: 1)
                return try s.step() ? try ExecutionRecord(row: s) : nil
            }
        }
    }

    /// Every attempt of every step of execution `executionID`, by step index, then attempt.
    public func stepRuns(executionID: String) throws(RunnerError) -> [StepRunRecord] {
        try rows("SELECT \(StepRunRecord.columns) FROM step_runs WHERE execution_id = ?1 ORDER BY step_index, attempt",
                 [.text(executionID)], StepRunRecord.init(row:))
    }

    /// One page of executions, newest first, optionally only those in `state`. Pass the returned `nextCursor`
    /// to get the next page; it is nil on the last page. Keyset pagination on (created_at, id), so rows added
    /// meanwhile neither shift nor repeat a page. Throws `invalid_input` for a cursor it did not make.
    public func listExecutions(state: String?, limit: Int, cursor: String?)
        throws(RunnerError) -> (items: [ExecutionRecord], nextCursor: String?)
    {
        let limit = max(1, limit)
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let state {
            values.append(.text(state))
            conditions.append("state = ?\(values.count)")
        }
        if let cursor {
            let key = try PageCursor(parsing: cursor)
            values += [.integer(key.createdAt), .text(key.id)]
            conditions.append("(created_at, id) < (?\(values.count - 1), ?\(values.count))")
        }
        values.append(.integer(Int64(limit) + 1))  // one more than asked tells whether a next page exists
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(ExecutionRecord.columns) FROM executions\(filter) "
            + "ORDER BY created_at DESC, id DESC LIMIT ?\(values.count)"
        var items = try rows(sql, values, ExecutionRecord.init(row:))
        guard items.count > limit else { return (items, nil) }
        items.removeLast(items.count - limit)
        return (items, items.last.map { PageCursor(createdAt: $0.createdAt, id: $0.id).description })
    }

    /// Executions still `pending` or `running`, oldest first: what recovery resumes after a restart.
    public func unfinishedExecutions() throws(RunnerError) -> [ExecutionRecord] {
        try rows("SELECT \(ExecutionRecord.columns) FROM executions WHERE state IN ('pending', 'running') "
                    + "ORDER BY created_at, id", [], ExecutionRecord.init(row:))
    }

    /// The latest `limit` layer events, newest first, optionally of one layer.
    public func layerEvents(layer: String?, limit: Int) throws(RunnerError) -> [LayerEventRecord] {
        let limit = SQLiteValue.integer(Int64(max(0, limit)))
        if let layer {
            return try rows("SELECT \(LayerEventRecord.columns) FROM layer_events WHERE layer = ?1 "
                                + "ORDER BY id DESC LIMIT ?2", [.text(layer), limit], LayerEventRecord.init(row:))
        }
        return try rows("SELECT \(LayerEventRecord.columns) FROM layer_events ORDER BY id DESC LIMIT ?1", [limit],
                        LayerEventRecord.init(row:))
    }

    /// How many executions there are, optionally only in `state`.
    public func countExecutions(state: String?) throws(RunnerError) -> Int {
        let counts: [Int] = if let state {
            try rows("SELECT count(*) FROM executions WHERE state = ?1", [.text(state)]) { s in Int(s.int64(at: 0)) }
        } else {
            try rows("SELECT count(*) FROM executions", []) { s in Int(s.int64(at: 0)) }
        }
        return counts.first ?? 0
    }

    /// Runs a query on a reader connection and decodes every row.
    private func rows<R: Sendable>(_ sql: String, _ values: [SQLiteValue],
                                   _ decode: (Statement) throws(RunnerError) -> R) throws(RunnerError) -> [R] {
        try read { db throws(RunnerError) in
            try db.using(sql) { s throws(RunnerError) in
                for (i, v) in values.enumerated() { try s.bind(v, at: i + 1) }
                var out: [R] = []
                while try s.step() { out.append(try decode(s)) }
                return out
            }
        }
    }
}

/// The position after the last row of a page: `<created_at>:<id>`. Callers treat it as opaque.
struct PageCursor: CustomStringConvertible {
    var createdAt: Int64
    var id: String

    init(createdAt: Int64, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    init(parsing text: String) throws(RunnerError) {
        guard let colon = text.firstIndex(of: ":"), let createdAt = Int64(text[..<colon]) else {
            throw RunnerError(.invalidInput, "invalid cursor \"\(text)\"", pointer: "/cursor")
        }
        self.init(createdAt: createdAt, id: String(text[text.index(after: colon)...]))
    }

    var description: String { "\(createdAt):\(id)" }
}
