import JALMCore

/// The schema, as an ordered list of scripts; script `i` takes `PRAGMA user_version` from `i` to `i + 1`.
/// Append new scripts, never edit a released one.
public enum Migrations {
    /// Every script of the schema, oldest first. Times are milliseconds since the Unix epoch.
    public static let scripts: [String] = [v1]

    /// The schema version this code writes.
    public static var currentVersion: Int { scripts.count }

    /// Brings the database to `scripts.count`, each script in its own transaction. A database newer than
    /// the code is refused rather than written by code that does not know its schema.
    public static func apply(to db: SQLiteConnection, scripts: [String] = Migrations.scripts) throws(RunnerError) {
        let found = try version(of: db)
        guard found <= scripts.count else {
            throw RunnerError(.internal, "the journal \(db.path) has schema version \(found), newer than the "
                + "version \(scripts.count) this jalmd knows; run a newer jalmd or point it at another data directory")
        }
        for next in found..<scripts.count {
            try db.exec("BEGIN IMMEDIATE")
            do {
                try db.exec(scripts[next])
                // user_version lives in the database header, so it commits or rolls back with the script.
                try db.exec("PRAGMA user_version = \(next + 1)")
                try db.exec("COMMIT")
            } catch {
                try? db.exec("ROLLBACK")
                throw RunnerError(.internal, "migration to schema version \(next + 1) failed: \(error.message)")
            }
        }
    }

    /// `PRAGMA user_version` of the database.
    public static func version(of db: SQLiteConnection) throws(RunnerError) -> Int {
        try db.using("PRAGMA user_version") { s throws(RunnerError) in
            _ = try s.step()
            return Int(s.int64(at: 0))
        }
    }

    // Indexes end in `id` so that keyset pagination on (created_at, id) reads the index in order.
    static let v1 = """
        CREATE TABLE executions (
            id TEXT PRIMARY KEY,
            intent TEXT NOT NULL,
            state TEXT NOT NULL,
            capsule TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            error TEXT,
            priority INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX executions_state_created ON executions(state, created_at, id);
        CREATE INDEX executions_created ON executions(created_at, id);
        CREATE TABLE step_runs (
            execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
            step_index INTEGER NOT NULL,
            step_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            layer TEXT NOT NULL,
            op TEXT NOT NULL,
            side_effect TEXT NOT NULL,
            state TEXT NOT NULL,
            input TEXT,
            output TEXT,
            error TEXT,
            queued_at INTEGER NOT NULL,
            dispatched_at INTEGER,
            finished_at INTEGER,
            layer_pid INTEGER,
            plugin_version TEXT,
            idempotency_key TEXT,
            PRIMARY KEY (execution_id, step_index, attempt)
        );
        CREATE TABLE layer_events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            layer TEXT NOT NULL,
            event TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX layer_events_layer ON layer_events(layer, id);
        """
}
