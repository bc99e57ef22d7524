import JALMCore
import JALMWire

extension SQLiteJournal {
    static let executionColumns = """
        x.n, x.id, x.intent, x.state, x.created_at, x.started_at, x.finished_at, x.error, x.idempotency_key, x.fence,
        d.body
        """

    public func claimUnfinished() throws(RunnerError) -> [StoredExecution] {
        try read { db throws(RunnerError) in
            let rows = try Self.executions(db, where: "x.state IN ('pending', 'running') ORDER BY x.n", [])
            return try rows.map { (n, x) throws(RunnerError) in try Self.withEvents(x, n: n, db) }
        }
    }

    public func execution(id: String) throws(RunnerError) -> StoredExecution? {
        try read { db throws(RunnerError) in
            guard let (n, x) = try Self.executions(db, where: "x.id = ?1", [.text(id)]).first else { return nil }
            return try Self.withEvents(x, n: n, db)
        }
    }

    public func submission(idempotencyKey key: String, notBefore: Int64) throws(RunnerError) -> KeyedSubmission? {
        try read { db throws(RunnerError) in
            try Self.executions(db, where: "x.idempotency_key = ?1 AND x.created_at >= ?2", [.text(key), .integer(notBefore)])
                .first.map { KeyedSubmission(executionID: $0.1.id, document: $0.1.document, createdAt: $0.1.createdAt) }
        }
    }

    /// Newest first by the order executions were created in; the cursor is the position after the page.
    public func list(state: String?, limit: Int, cursor: String?) throws(RunnerError) -> ExecutionPage {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let state {
            values.append(.text(state))
            conditions.append("state = ?\(values.count)")
        }
        if let cursor {
            guard let n = Int64(cursor), n > 0 else {
                throw RunnerError(.invalidInput, "invalid cursor \"\(cursor)\"", pointer: "/cursor")
            }
            values.append(.integer(n))
            conditions.append("n < ?\(values.count)")
        }
        values.append(.integer(Int64(max(1, limit)) + 1))  // one more than asked tells whether a next page exists
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT n, id, intent, state, created_at, finished_at FROM executions\(filter) "
            + "ORDER BY n DESC LIMIT ?\(values.count)"
        var rows: [(Int64, ExecutionListItem)] = try read { db throws(RunnerError) in
            try db.using(sql) { s throws(RunnerError) in
                for (i, v) in values.enumerated() { try s.bind(v, at: i + 1) }
                var out: [(Int64, ExecutionListItem)] = []
                while try s.step() {
                    out.append((s.int64(at: 0), ExecutionListItem(
                        id: s.string(at: 1) ?? "", intent: s.string(at: 2) ?? "", state: s.string(at: 3) ?? "",
                        createdAt: s.int64(at: 4), finishedAt: s.optionalInt64(at: 5))))
                }
                return out
            }
        }
        var next: String?
        if rows.count > max(1, limit) {
            rows.removeLast()
            next = rows.last.map { String($0.0) }
        }
        return ExecutionPage(items: rows.map(\.1), nextCursor: next)
    }

    public func layerEvents(layer: String?, limit: Int) throws(RunnerError) -> [LayerEventRecord] {
        let limit = SQLiteValue.integer(Int64(max(0, limit)))
        let (sql, values): (String, [SQLiteValue]) = if let layer {
            ("SELECT at, layer, event, detail FROM layer_events WHERE layer = ?1 ORDER BY id DESC LIMIT ?2",
             [.text(layer), limit])
        } else {
            ("SELECT at, layer, event, detail FROM layer_events ORDER BY id DESC LIMIT ?1", [limit])
        }
        return try read { db throws(RunnerError) in
            try db.using(sql) { s throws(RunnerError) in
                for (i, v) in values.enumerated() { try s.bind(v, at: i + 1) }
                var out: [LayerEventRecord] = []
                while try s.step() {
                    out.append(LayerEventRecord(at: s.int64(at: 0), layer: s.string(at: 1) ?? "",
                                                event: s.string(at: 2) ?? "", detail: try s.json(at: 3)))
                }
                return out
            }
        }
    }

    /// How many executions there are, optionally only in `state`.
    public func countExecutions(state: String? = nil) throws(RunnerError) -> Int {
        try read { db throws(RunnerError) in
            let sql = state == nil ? "SELECT count(*) FROM executions" : "SELECT count(*) FROM executions WHERE state = ?1"
            return try db.using(sql) { s throws(RunnerError) in
                if let state { try s.bind(state, at: 1) }
                _ = try s.step()
                return Int(s.int64(at: 0))
            }
        }
    }

    // MARK: rows

    static func executions(_ db: SQLiteConnection, where condition: String, _ values: [SQLiteValue])
        throws(RunnerError) -> [(Int64, StoredExecution)]
    {
        let sql = "SELECT \(executionColumns) FROM executions x JOIN documents d ON d.n = x.document WHERE \(condition)"
        return try db.using(sql) { s throws(RunnerError) in
            for (i, v) in values.enumerated() { try s.bind(v, at: i + 1) }
            var out: [(Int64, StoredExecution)] = []
            while try s.step() {
                out.append((s.int64(at: 0), StoredExecution(
                    id: s.string(at: 1) ?? "", intent: s.string(at: 2) ?? "",
                    summary: ExecutionSummary(state: s.string(at: 3) ?? "", startedAt: s.optionalInt64(at: 5),
                                              finishedAt: s.optionalInt64(at: 6), error: try s.json(at: 7)),
                    createdAt: s.int64(at: 4), idempotencyKey: s.string(at: 8), document: s.blob(at: 10) ?? [],
                    events: [], owner: FencingToken(s.int64(at: 9)))))
            }
            return out
        }
    }

    static func withEvents(_ x: StoredExecution, n: Int64, _ db: SQLiteConnection) throws(RunnerError) -> StoredExecution {
        var x = x
        x.events = try db.using("""
            SELECT seq, at, kind, address, attempt, payload FROM events WHERE execution = ?1 ORDER BY seq
            """) { s throws(RunnerError) in
            try s.bind(n, at: 1)
            var out: [EventRecord] = []
            while try s.step() {
                out.append(EventRecord(seq: Int(s.int64(at: 0)), at: s.int64(at: 1), kind: s.string(at: 2) ?? "",
                                       address: s.string(at: 3), attempt: s.optionalInt64(at: 4).map { Int($0) },
                                       payloadText: s.textBytes(at: 5)))
            }
            return out
        }
        return x
    }
}
