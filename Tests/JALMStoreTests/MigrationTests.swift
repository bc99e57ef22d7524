import JALMCore
@testable import JALMStore
import JALMWire
import Synchronization
import Testing

@Suite struct MigrationTests {
    @Test func aFreshFileIsMadeAtTheCurrentVersion() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try SQLiteJournal(path: dir.database).close()
        let db = try SQLiteConnection(path: dir.database)
        #expect(try Migrations.version(of: db) == Migrations.currentVersion)
        let names = try db.withStatement("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name") { s in
            var names: [String] = []
            while try s.step() { names.append(s.string(at: 0) ?? "") }
            return names
        }
        #expect(names == ["documents", "events", "executions", "layer_events", "meta", "step_runs"])
    }

    @Test func aDatabaseNewerThanTheCodeIsRefused() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        try db.exec("PRAGMA user_version = \(Migrations.currentVersion + 1)")
        db.close()
        let error = #expect(throws: RunnerError.self) { try SQLiteJournal(path: dir.database) }
        #expect(error?.message.contains("newer") == true)
    }

    /// A schema-1 journal with two executions and a layer event.
    func version1(_ dir: TempDir) throws {
        let db = try SQLiteConnection(path: dir.database)
        defer { db.close() }
        try db.exec(Migrations.v1)
        try db.exec("PRAGMA user_version = 1")
        try db.exec("""
            INSERT INTO executions VALUES ('ex_b', 'second', 'running', '{"steps":[]}', 20, 20, NULL, NULL, 0);
            INSERT INTO executions VALUES ('ex_a', 'first', 'completed', '{"steps":[]}', 10, 10, 15, NULL, 0);
            INSERT INTO step_runs VALUES ('ex_a', 0, 's', 1, 'io-file', 'read', 'read', 'ok', NULL, '{"n":1}', NULL,
                10, 11, 12, 7, '0.1.0', NULL);
            INSERT INTO layer_events (at, layer, event, detail) VALUES (5, 'io-file', 'restart', NULL);
            """)
    }

    @Test func aVersion1JournalIsUpgradedWithItsExecutionsTurnedIntoEvents() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try version1(dir)
        let seen = Mutex<[String]>([])
        let journal = try SQLiteJournal(path: dir.database) { legacy in
            seen.withLock { $0.append("\(legacy.id):\(legacy.runs.map(\.state))") }
            return ([EventRecord(seq: 1, at: legacy.createdAt, kind: "submitted")],
                    ExecutionSummary(state: legacy.state, startedAt: legacy.startedAt, finishedAt: legacy.finishedAt))
        }
        defer { journal.close() }
        #expect(seen.withLock { $0 } == ["ex_a:[\"ok\"]", "ex_b:[]"], "oldest first, with their runs")
        #expect(try journal.list(state: nil, limit: 10, cursor: nil).items.map(\.id) == ["ex_b", "ex_a"])
        #expect(try journal.execution(id: "ex_a")?.summary.finishedAt == 15)
        #expect(try journal.claimUnfinished().map(\.id) == ["ex_b"])
        #expect(try journal.layerEvents(layer: nil, limit: 5).map(\.event) == ["restart"])
    }

    @Test func aFailedUpgradeLeavesVersion1Untouched() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try version1(dir)
        #expect(throws: RunnerError.self) { try SQLiteJournal(path: dir.database, upgrade: nil) }
        let db = try SQLiteConnection(path: dir.database)
        defer { db.close() }
        #expect(try Migrations.version(of: db) == 1)
        let count = try db.withStatement("SELECT count(*) FROM executions") { s in _ = try s.step(); return s.int64(at: 0) }
        #expect(count == 2)
    }

    @Test func theJournalIsInWALMode() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.database)
        defer { journal.close() }
        let db = try SQLiteConnection(path: dir.database)
        let mode = try db.withStatement("PRAGMA journal_mode") { s in _ = try s.step(); return s.string(at: 0) }
        #expect(mode == "wal")
    }
}
