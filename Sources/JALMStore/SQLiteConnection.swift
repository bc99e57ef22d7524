import CSQLite
import JALMCore

/// One SQLite connection with a cache of prepared statements keyed by SQL text.
///
/// Not thread-safe: it is opened with `SQLITE_OPEN_NOMUTEX`, so each connection must be used by one thread
/// at a time (the store keeps the writer on its own thread and each reader behind a `Mutex`).
public final class SQLiteConnection {
    /// How to open the database file; the `SQLITE_OPEN_*` flags.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let readOnly = Flags(rawValue: SQLITE_OPEN_READONLY)
        public static let readWrite = Flags(rawValue: SQLITE_OPEN_READWRITE)
        public static let create = Flags(rawValue: SQLITE_OPEN_CREATE)
        /// No per-connection mutex: the caller guarantees one thread at a time.
        public static let noMutex = Flags(rawValue: SQLITE_OPEN_NOMUTEX)
        /// What the store uses: read-write, created if missing, no per-connection mutex.
        public static let `default`: Flags = [.readWrite, .create, .noMutex]
    }

    /// Milliseconds a statement waits for a lock held by another connection before failing with SQLITE_BUSY.
    public static let busyTimeoutMs: Int32 = 5000

    /// The path the connection was opened with.
    public let path: String
    private var db: OpaquePointer?
    private var cache: [String: Statement] = [:]

    /// Opens (or creates) the database at `path`, sets `busy_timeout` and turns foreign keys on.
    public init(path: String, flags: Flags = .default) throws(RunnerError) {
        self.path = path
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags.rawValue, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(handle)
            throw RunnerError(.internal, "sqlite: cannot open \(path): \(message) (code \(rc))")
        }
        self.db = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Self.busyTimeoutMs)
        try exec("PRAGMA foreign_keys = ON")
    }

    deinit { close() }

    /// Finalizes the cached statements and closes the connection; later calls throw. Idempotent.
    public func close() {
        cache.removeAll()  // each Statement finalizes itself in deinit
        sqlite3_close_v2(db)  // _v2: a statement still referenced elsewhere keeps the handle alive as a zombie
        db = nil
    }

    /// Runs one or more SQL statements that return no rows the caller needs (DDL, PRAGMAs, BEGIN/COMMIT).
    public func exec(_ sql: String) throws(RunnerError) {
        let db = try open()
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw RunnerError(.internal, "sqlite: \(text) (code \(rc)) in: \(sql)")
        }
    }

    /// The prepared statement for `sql`, from the cache when it was prepared before. Reset it after use,
    /// or use `withStatement`, which does.
    public func prepare(_ sql: String) throws(RunnerError) -> Statement {
        if let cached = cache[sql] { return cached }
        let db = try open()
        var handle: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else { throw error(rc, sql) }
        let statement = Statement(handle: handle, db: db, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` with the cached statement for `sql`, then resets it and clears its bindings, so that
    /// no read transaction stays open and no value leaks into the next use.
    public func withStatement<R>(_ sql: String, _ body: (Statement) throws -> R) throws -> R {
        let statement = try prepare(sql)
        defer { statement.reset() }
        return try body(statement)
    }

    /// `withStatement` for the store's own code, which only throws `RunnerError`.
    func using<R>(_ sql: String, _ body: (Statement) throws(RunnerError) -> R) throws(RunnerError) -> R {
        let statement = try prepare(sql)
        defer { statement.reset() }
        return try body(statement)
    }

    /// Runs one cached statement that returns no rows, binding `values` from index 1.
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(RunnerError) {
        try using(sql) { s throws(RunnerError) in
            for (i, v) in values.enumerated() { try s.bind(v, at: i + 1) }
            while try s.step() {}
        }
    }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertRowID: Int64 { db.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { db.map { Int(sqlite3_changes($0)) } ?? 0 }

    /// Whether a transaction is open (an error such as SQLITE_FULL can roll one back on its own).
    public var isInTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// The store error for result code `rc`, with SQLite's message.
    func error(_ rc: Int32, _ context: String) -> RunnerError {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return RunnerError(.internal, "sqlite: \(message) (code \(rc)) in: \(context)")
    }

    private func open() throws(RunnerError) -> OpaquePointer {
        guard let db else { throw RunnerError(.internal, "sqlite: connection to \(path) is closed") }
        return db
    }
}
