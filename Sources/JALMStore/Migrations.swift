import JALMCore

/// The schema by `PRAGMA user_version`. Version 1 (issues 2–8) kept one row per step attempt; version 2
/// keeps each execution's history as events, with `executions` as their summary. A new database is made at
/// the current version; a version-1 database is upgraded in one transaction, its executions turned into
/// events by the engine's `LegacyUpgrade`, so that a crash in the middle leaves version 1 untouched.
/// Append new versions, never edit a released one.
public enum Migrations {
    /// The schema version this code writes.
    public static let currentVersion = 2

    /// Brings the database to `currentVersion`. A database newer than the code is refused rather than
    /// written by code that does not know its schema; a version-1 database with executions needs `upgrade`.
    public static func apply(to db: SQLiteConnection, upgrade: LegacyUpgrade?) throws(RunnerError) {
        let found = try version(of: db)
        guard found <= currentVersion else {
            throw RunnerError(.internal, "the journal \(db.path) has schema version \(found), newer than the "
                + "version \(currentVersion) this jalmd knows; run a newer jalmd or point it at another data directory")
        }
        if found == currentVersion { return }
        try db.exec("BEGIN IMMEDIATE")
        do {
            if found == 0 {
                try db.exec(v2)
            } else {
                try upgradeFromVersion1(db, upgrade: upgrade)
            }
            // user_version lives in the database header, so it commits or rolls back with the script.
            try db.exec("PRAGMA user_version = \(currentVersion)")
            try db.exec("COMMIT")
        } catch {
            try? db.exec("ROLLBACK")
            throw RunnerError(.internal, "migration of \(db.path) from schema version \(found) to \(currentVersion) "
                + "failed: \(error.message)")
        }
    }

    /// `PRAGMA user_version` of the database.
    public static func version(of db: SQLiteConnection) throws(RunnerError) -> Int {
        try db.using("PRAGMA user_version") { s throws(RunnerError) in
            _ = try s.step()
            return Int(s.int64(at: 0))
        }
    }

    /// Version 1 → 2: the old tables step aside, the new ones are made, each old execution is written as
    /// events (oldest first, so list order is kept), and the old tables go. `layer_events` stays as it is.
    static func upgradeFromVersion1(_ db: SQLiteConnection, upgrade: LegacyUpgrade?) throws(RunnerError) {
        try db.exec("""
            ALTER TABLE step_runs RENAME TO v1_step_runs;
            ALTER TABLE executions RENAME TO v1_executions;
            DROP INDEX IF EXISTS executions_state_created;
            DROP INDEX IF EXISTS executions_created;
            """)
        try db.exec(v2Executions)
        let legacy = try LegacyReader.executions(db)
        if !legacy.isEmpty {
            guard let upgrade else {
                throw RunnerError(.internal, "the journal holds \(legacy.count) executions of schema version 1 "
                    + "and nothing to convert them with")
            }
            var writer = JournalWriter(db: db, epoch: 0)
            for execution in legacy {
                let (events, summary) = upgrade(execution)
                try writer.apply(.create(NewExecution(id: execution.id, intent: execution.intent,
                                                      document: Array(execution.capsule.utf8),
                                                      createdAt: execution.createdAt),
                                         events: events, summary: summary))
            }
        }
        try db.exec("DROP TABLE v1_step_runs; DROP TABLE v1_executions;")
    }

    /// Schema 1, as issues 2–8 wrote it: kept to read (and to make, in tests) journals of that version.
    public static let v1 = """
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
        """ + layerEvents

    /// `layer_events`, the same in schemas 1 and 2 (kept as it was by the upgrade).
    static let layerEvents = """
        CREATE TABLE layer_events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            layer TEXT NOT NULL,
            event TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX layer_events_layer ON layer_events(layer, id);
        """

    /// Schema 2. `events` is the truth: append-only, one row per event, keyed by (execution, seq) without a
    /// rowid. `executions` is its summary, updated in the same transaction. A capsule document is stored once
    /// however many executions run it (`documents`, by hash and bytes). `step_runs` is a view of the events
    /// for people querying the file; the engine folds the events itself.
    static let v2 = v2Executions + layerEvents

    static let v2Executions = """
        CREATE TABLE documents (
            n INTEGER PRIMARY KEY,
            hash INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX documents_hash ON documents(hash);
        CREATE TABLE executions (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            intent TEXT NOT NULL,
            state TEXT NOT NULL,
            document INTEGER NOT NULL REFERENCES documents(n),
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            error TEXT,
            idempotency_key TEXT,
            fence INTEGER NOT NULL
        );
        CREATE INDEX executions_state ON executions(state, n);
        CREATE UNIQUE INDEX executions_idempotency_key ON executions(idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE TABLE events (
            execution INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            address TEXT,
            attempt INTEGER,
            payload TEXT,
            PRIMARY KEY (execution, seq)
        ) WITHOUT ROWID;
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE VIEW step_runs AS
            SELECT x.id AS execution_id, e.address AS step_id, e.attempt AS attempt,
                CASE e.kind WHEN 'step.ok' THEN 'ok' WHEN 'step.skipped' THEN 'skipped'
                    WHEN 'step.dispatched' THEN 'dispatched' WHEN 'step.interrupted' THEN 'interrupted'
                    WHEN 'step.unknown' THEN 'unknown' ELSE json_extract(e.payload, '$.s') END AS state,
                CASE WHEN e.kind = 'step.dispatched' THEN e.at
                    ELSE e.at - json_extract(e.payload, '$.ms') END AS dispatched_at,
                CASE WHEN e.kind = 'step.dispatched' THEN NULL ELSE e.at END AS finished_at,
                json_extract(e.payload, '$.o') AS output,
                json_extract(e.payload, '$.e') AS error,
                json_extract(e.payload, '$.p') AS layer_pid,
                json_extract(e.payload, '$.v') AS plugin_version
            FROM events e JOIN executions x ON x.n = e.execution
            WHERE e.kind LIKE 'step.%' AND e.seq = (
                SELECT max(f.seq) FROM events f
                WHERE f.execution = e.execution AND f.address = e.address AND f.attempt IS e.attempt
                    AND f.kind LIKE 'step.%');
        """
}
