import JALMCore
import JALMStore
import Testing

@Suite struct MigrationTests {
    @Test func freshFileIsMigratedToTheCurrentVersion() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try Store(path: dir.database)
        store.close()
        let db = try SQLiteConnection(path: dir.database)
        #expect(try Migrations.version(of: db) == Migrations.currentVersion)
        let tables = try db.withStatement("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { s in
            var names: [String] = []
            while try s.step() { names.append(s.string(at: 0) ?? "") }
            return names
        }
        #expect(tables == ["executions", "layer_events", "step_runs"])
    }

    @Test func reopeningAMigratedFileChangesNothing() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try Store(path: dir.database)
        try await first.commit([.insertExecution(execution("ex_a"))])
        first.close()
        let second = try Store(path: dir.database)
        defer { second.close() }
        #expect(try second.countExecutions(state: nil) == 1)
        let db = try SQLiteConnection(path: dir.database)
        try Migrations.apply(to: db)
        #expect(try Migrations.version(of: db) == Migrations.currentVersion)
    }

    @Test func databaseNewerThanTheCodeIsRefused() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        try db.exec("PRAGMA user_version = \(Migrations.currentVersion + 1)")
        db.close()
        let error = #expect(throws: RunnerError.self) { try Store(path: dir.database) }
        #expect(error?.code == .internal)
        #expect(error?.message.contains("newer") == true)
    }

    @Test func failingScriptRollsBackAndKeepsTheVersion() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        try Migrations.apply(to: db)
        #expect(throws: RunnerError.self) {
            let broken = "CREATE TABLE extra (x); CREATE TABLE broken ("
            try Migrations.apply(to: db, scripts: Migrations.scripts + [broken])
        }
        #expect(try Migrations.version(of: db) == Migrations.currentVersion)
        let extra = try db.withStatement("SELECT count(*) FROM sqlite_master WHERE name = 'extra'") { s in
            _ = try s.step()
            return s.int64(at: 0)
        }
        #expect(extra == 0)
    }

    @Test func journalIsInWALModeWithForeignKeysOn() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try Store(path: dir.database)
        defer { store.close() }
        let db = try SQLiteConnection(path: dir.database)
        let mode = try db.withStatement("PRAGMA journal_mode") { s in _ = try s.step(); return s.string(at: 0) }
        let fk = try db.withStatement("PRAGMA foreign_keys") { s in _ = try s.step(); return s.int64(at: 0) }
        #expect(mode == "wal")
        #expect(fk == 1)
    }
}
