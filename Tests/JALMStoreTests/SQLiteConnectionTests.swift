import JALMCore
import JALMStore
import Testing

@Suite struct SQLiteConnectionTests {
    @Test func preparedStatementsAreCachedBySQLText() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        #expect(try db.prepare("SELECT 1") === db.prepare("SELECT 1"))
        #expect(try db.prepare("SELECT 1") !== db.prepare("SELECT 2"))
    }

    @Test func bindAndReadEveryType() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        let row = try db.withStatement("SELECT ?1, ?2, ?3, ?4, ?5") { s in
            try s.bind(Int64.min, at: 1)
            try s.bind(2.5, at: 2)
            try s.bind("héllo 🌍", at: 3)
            try s.bind(blob: [0, 1, 255], at: 4)
            try s.bindNull(at: 5)
            _ = try s.step()
            return (s.int64(at: 0), s.double(at: 1), s.string(at: 2), s.blob(at: 3), s.isNull(at: 4))
        }
        #expect(row.0 == Int64.min)
        #expect(row.1 == 2.5)
        #expect(row.2 == "héllo 🌍")
        #expect(row.3 == [0, 1, 255])
        #expect(row.4)
    }

    @Test func errorsCarryTheSQLiteMessage() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        let error = #expect(throws: RunnerError.self) { try db.exec("SELECT * FROM nowhere") }
        #expect(error?.code == .internal)
        #expect(error?.message.contains("no such table: nowhere") == true)
    }

    @Test func closedConnectionThrowsInsteadOfCrashing() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        db.close()
        db.close()
        #expect(throws: RunnerError.self) { try db.exec("SELECT 1") }
    }
}
