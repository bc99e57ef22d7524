import JALMStore
import JALMWire

/// Reads a data folder's journal directly with SQL (the `step_runs` view and `executions`), without opening
/// it as a journal: opening one claims it, which a test reading beside a running jalmd must not do.
struct JournalFile {
    let db: SQLiteConnection

    init(_ dataDir: String) throws {
        db = try SQLiteConnection(path: dataDir + "/journal.sqlite", flags: [.readOnly, .noMutex])
    }

    struct Run: Equatable {
        var step: String
        var attempt: Int
        var state: String
        var dispatchedAt: Int64?
        var finishedAt: Int64?
    }

    /// Every attempt of every step of execution `id` (its latest state each), by step then attempt.
    func runs(_ id: String) throws -> [Run] {
        try db.withStatement("""
            SELECT step_id, attempt, state, dispatched_at, finished_at FROM step_runs WHERE execution_id = ?1
            ORDER BY step_id, attempt
            """) { s in
            try s.bind(id, at: 1)
            var out: [Run] = []
            while try s.step() {
                out.append(Run(step: s.string(at: 0) ?? "", attempt: Int(s.int64(at: 1)), state: s.string(at: 2) ?? "",
                               dispatchedAt: s.optionalInt64(at: 3), finishedAt: s.optionalInt64(at: 4)))
            }
            return out
        }
    }

    func okSteps(_ id: String) throws -> [String] { try runs(id).filter { $0.state == "ok" }.map(\.step) }

    func state(_ id: String) throws -> String? { try column("state", of: id) }

    func intent(_ id: String) throws -> String? { try column("intent", of: id) }

    private func column(_ name: String, of id: String) throws -> String? {
        try db.withStatement("SELECT \(name) FROM executions WHERE id = ?1") { s in
            try s.bind(id, at: 1)
            return try s.step() ? s.string(at: 0) : nil
        }
    }

    /// The kinds of execution `id`'s events, in order.
    func eventKinds(_ id: String) throws -> [String] {
        try db.withStatement("""
            SELECT e.kind FROM events e JOIN executions x ON x.n = e.execution WHERE x.id = ?1 ORDER BY e.seq
            """) { s in
            try s.bind(id, at: 1)
            var out: [String] = []
            while try s.step() { out.append(s.string(at: 0) ?? "") }
            return out
        }
    }
}
