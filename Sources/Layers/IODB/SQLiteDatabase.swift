#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import Dispatch
import JALMWire

/// A SQLite database: one file beneath `<data>/db/`, one connection, used from one serial queue.
///
/// WAL journal (readers do not block the writer), `busy_timeout` for other processes' locks, foreign keys
/// on. A read-only database is opened `SQLITE_OPEN_READONLY` with `PRAGMA query_only`. Timeouts: a
/// progress handler runs every 1000 VM instructions and stops the statement (`SQLITE_INTERRUPT`) once the
/// step's deadline passes or the kernel cancels; the connection stays open and usable.
final class SQLiteDatabase: Database, @unchecked Sendable {
    let settings: DatabaseSettings
    let path: String
    private let queue: DispatchQueue
    // Touched only on `queue`.
    private var db: OpaquePointer?
    private var control: CallControl?
    private var hasIdempotencyTable = false

    init(settings: DatabaseSettings, directory: String) {
        guard case .sqlite(let file) = settings.engine else { preconditionFailure("not a sqlite database") }
        self.settings = settings
        self.path = directory + "/" + file
        self.queue = DispatchQueue(label: "io-db.sqlite.\(settings.name)")
    }

    deinit { if let db { sqlite3_close_v2(db) } }

    func query(_ statement: Statement, limits: RowLimits, control: CallControl) async throws(CallFailure) -> JSONValue {
        try await onQueue(queue) { () throws(CallFailure) -> JSONValue in
            let db = try self.begin(control)
            defer { self.control = nil }
            let stmt = try self.prepare(db, statement)
            defer { sqlite3_finalize(stmt) }
            guard sqlite3_stmt_readonly(stmt) != 0 else {
                throw CallFailure(.invalidInput, "query runs read-only statements; use exec or batch to change data",
                                  details: ["reason": "not_read_only", "pointer": "/sql"])
            }
            var collector = RowCollector(limits: limits)
            let columns = try self.run(db, stmt, into: &collector)
            return ["columns": .array(columns.map { .string($0) }), "rows": .array(collector.rows),
                    "row_count": .int(Int64(collector.rows.count))]
        }
    }

    func write(_ statements: [Statement], limits: RowLimits, idempotencyKey: String?, commit: Bool,
               control: CallControl, render: @escaping @Sendable ([WriteResult]) -> JSONValue) async throws(CallFailure) -> WriteOutcome {
        guard !settings.readOnly else { throw .readOnly(settings.name) }
        return try await onQueue(queue) { () throws(CallFailure) -> WriteOutcome in
            let db = try self.begin(control)
            defer { self.control = nil }
            let key = commit ? idempotencyKey : nil
            if key != nil && !self.hasIdempotencyTable {
                try self.execute(db, "CREATE TABLE IF NOT EXISTS \(IdempotencyTable.name) (key TEXT PRIMARY KEY, result TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
                self.hasIdempotencyTable = true
            }
            // IMMEDIATE takes the write lock now, so two writers with one key cannot both miss it.
            try self.execute(db, "BEGIN IMMEDIATE")
            do throws(CallFailure) {
                if let key, let stored = try self.storedResult(db, key: key) {
                    try self.execute(db, "ROLLBACK")
                    return .replayed(stored)
                }
                var results: [WriteResult] = []
                var collector = RowCollector(limits: limits)
                for (i, statement) in statements.enumerated() {
                    do throws(CallFailure) { results.append(try self.runWrite(db, statement, into: &collector)) }
                    catch { throw error.inStatement(i, of: statements.count) }
                }
                let output = render(results)
                guard commit else {
                    try self.execute(db, "ROLLBACK")
                    return .applied(output)
                }
                if let key { try self.store(db, key: key, output: output) }
                try self.execute(db, "COMMIT")
                return .applied(output)
            } catch {
                if sqlite3_get_autocommit(db) == 0 {
                    // The rollback must run even after an interrupt: lift the stop for it.
                    self.control = nil
                    _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
                }
                throw error
            }
        }
    }

    // MARK: - On the queue

    /// Opens the connection on first use and arms the progress handler with this call's control.
    private func begin(_ control: CallControl) throws(CallFailure) -> OpaquePointer {
        let db = try connection()
        self.control = control
        if control.shouldStop { throw control.stoppedFailure("SQLite") }
        return db
    }

    private func connection() throws(CallFailure) -> OpaquePointer {
        if let db { return db }
        var handle: OpaquePointer?
        let flags = settings.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            let missing = settings.readOnly && access(path, F_OK) != 0
            throw CallFailure(missing ? .notFound : .upstreamError,
                              "cannot open SQLite database \"\(settings.name)\": \(message)",
                              details: ["database": .string(settings.name)])
        }
        sqlite3_busy_timeout(handle, Int32(settings.busyTimeoutMs))
        sqlite3_progress_handler(handle, 1000, { context in
            let me = Unmanaged<SQLiteDatabase>.fromOpaque(context!).takeUnretainedValue()
            return me.control?.shouldStop == true ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
        db = handle
        let pragmas = settings.readOnly
            ? ["PRAGMA query_only = ON", "PRAGMA foreign_keys = ON"]
            : ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"]
        for pragma in pragmas { try execute(handle, pragma) }
        return handle
    }

    private func execute(_ db: OpaquePointer, _ sql: String) throws(CallFailure) {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(db, rc) }
    }

    /// Exactly one statement: a second one after `;` is refused, so `sql` cannot smuggle another in.
    private func prepare(_ db: OpaquePointer, _ statement: Statement) throws(CallFailure) -> OpaquePointer {
        var stmt: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = statement.sql.withCString { sql in
            let rc = sqlite3_prepare_v3(db, sql, -1, 0, &stmt, &tail)
            if rc == SQLITE_OK, let t = tail {
                // What follows the statement must be blank or comments: prepare it to see.
                var next: OpaquePointer?
                let rc2 = sqlite3_prepare_v3(db, t, -1, 0, &next, nil)
                if next != nil || rc2 != SQLITE_OK {
                    sqlite3_finalize(next)
                    sqlite3_finalize(stmt)
                    stmt = nil
                    return Int32(-1)
                }
            }
            return rc
        }
        if rc == -1 {
            throw CallFailure(.invalidInput, "sql holds more than one statement; use batch for several",
                              details: ["reason": "multiple_statements", "pointer": "/sql"])
        }
        guard rc == SQLITE_OK else { throw failure(db, rc, preparing: true) }
        guard let stmt else {
            throw CallFailure(.invalidInput, "sql holds no statement", details: ["pointer": "/sql"])
        }
        do throws(CallFailure) { try bind(stmt, statement.parameters) } catch {
            sqlite3_finalize(stmt)
            throw error
        }
        return stmt
    }

    /// Binds by what the statement asks for: `?`, `?NNN` and `$N` positionally, `:name`/`@name`/`$name` by name.
    private func bind(_ stmt: OpaquePointer, _ parameters: Statement.Parameters) throws(CallFailure) {
        let count = Int(sqlite3_bind_parameter_count(stmt))
        var names: [String] = []
        var positional = 0
        for i in 1...max(count, 1) where count > 0 {
            let name = sqlite3_bind_parameter_name(stmt, Int32(i)).map { String(cString: $0) }
            if let name, let number = SQLiteParameters.positionalNumber(name) {
                positional = max(positional, number)
            } else if let name, !name.hasPrefix("?") {
                names.append(name)
            } else {
                positional = max(positional, i)
            }
        }
        switch parameters {
        case .positional(let values):
            guard names.isEmpty else {
                throw PostgresParameters.mismatch("the statement uses named placeholders (\(names.joined(separator: ", "))) but params is an array; give params as an object")
            }
            guard values.count == positional else {
                throw PostgresParameters.mismatch("the statement has \(positional) placeholder(s) but params has \(values.count) value(s)")
            }
            for i in 1...max(count, 1) where count > 0 {
                let name = sqlite3_bind_parameter_name(stmt, Int32(i)).map { String(cString: $0) }
                let n = name.flatMap(SQLiteParameters.positionalNumber) ?? i
                try bindOne(stmt, Int32(i), values[n - 1])
            }
        case .named(let byName):
            guard positional == 0 || count == 0 else {
                throw PostgresParameters.mismatch("the statement uses positional placeholders but params is an object; give params as an array")
            }
            let used = Set(names.map { String($0.dropFirst()) })
            if let missing = names.first(where: { byName[String($0.dropFirst())] == nil }) {
                throw PostgresParameters.mismatch("the statement uses \(missing) but params has no \"\(missing.dropFirst())\"")
            }
            if let extra = byName.keys.sorted().first(where: { !used.contains($0) }) {
                throw PostgresParameters.mismatch("params has \"\(extra)\" but the statement has no :\(extra)")
            }
            for i in 1...max(count, 1) where count > 0 {
                let name = String(cString: sqlite3_bind_parameter_name(stmt, Int32(i)))
                try bindOne(stmt, Int32(i), byName[String(name.dropFirst())]!)
            }
        }
    }

    private func bindOne(_ stmt: OpaquePointer, _ i: Int32, _ value: BindValue) throws(CallFailure) {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(stmt, i)
        case .bool(let b): rc = sqlite3_bind_int64(stmt, i, b ? 1 : 0)
        case .int(let n): rc = sqlite3_bind_int64(stmt, i, n)
        case .double(let d): rc = sqlite3_bind_double(stmt, i, d)
        case .text(let s): rc = sqlite3_bind_text(stmt, i, s, -1, csqlite_transient())
        case .blob(let bytes):
            rc = bytes.withUnsafeBytes { sqlite3_bind_blob64(stmt, i, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), sqlite3_uint64(bytes.count), csqlite_transient()) }
        }
        guard rc == SQLITE_OK else {
            throw CallFailure(.invalidInput, "cannot bind parameter \(i): \(String(cString: sqlite3_errstr(rc)))",
                              details: ["pointer": "/params"])
        }
    }

    /// Steps `stmt` to its end, adding each row to `collector`; returns the column names.
    @discardableResult
    private func run(_ db: OpaquePointer, _ stmt: OpaquePointer, into collector: inout RowCollector) throws(CallFailure) -> [String] {
        let n = sqlite3_column_count(stmt)
        let columns = (0..<n).map { String(cString: sqlite3_column_name(stmt, $0)) }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return columns }
            guard rc == SQLITE_ROW else { throw failure(db, rc) }
            var row: [String: JSONValue] = [:]
            for c in 0..<n { row[columns[Int(c)]] = SQLiteValues.column(stmt, c) }
            try collector.append(row)
        }
    }

    private func runWrite(_ db: OpaquePointer, _ statement: Statement, into collector: inout RowCollector) throws(CallFailure) -> WriteResult {
        let stmt = try prepare(db, statement)
        defer { sqlite3_finalize(stmt) }
        sqlite3_set_last_insert_rowid(db, 0)
        // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE across other statements (DDL,
        // SELECT): only trust it when this statement changed something.
        let before = sqlite3_total_changes64(db)
        try run(db, stmt, into: &collector)
        let rowid = sqlite3_last_insert_rowid(db)
        let returnsRows = sqlite3_column_count(stmt) > 0
        let changed = sqlite3_total_changes64(db) != before
        return WriteResult(rowsAffected: changed ? sqlite3_changes64(db) : 0, lastInsertID: rowid != 0 ? .int(rowid) : .null,
                           rows: returnsRows ? collector.takeRows() : nil)
    }

    private func storedResult(_ db: OpaquePointer, key: String) throws(CallFailure) -> JSONValue? {
        let stmt = try prepare(db, Statement(sql: "SELECT result FROM \(IdempotencyTable.name) WHERE key = ?", parameters: .positional([.text(key)])))
        defer { sqlite3_finalize(stmt) }
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw failure(db, rc) }
        let text = String(cString: sqlite3_column_text(stmt, 0))
        return (try? JSONParser.parse(text)) ?? .null
    }

    private func store(_ db: OpaquePointer, key: String, output: JSONValue) throws(CallFailure) {
        let stmt = try prepare(db, Statement(sql: "INSERT INTO \(IdempotencyTable.name) (key, result) VALUES (?, ?)",
                                             parameters: .positional([.text(key), .text(JSONWriter.string(output, sortedKeys: true))])))
        defer { sqlite3_finalize(stmt) }
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE else { throw failure(db, rc) }
    }

    /// SQLite's result code as a `CallFailure`.
    private func failure(_ db: OpaquePointer, _ rc: Int32, preparing: Bool = false) -> CallFailure {
        let message = String(cString: sqlite3_errmsg(db))
        let primary = rc & 0xFF
        if primary == SQLITE_INTERRUPT, let control { return control.stoppedFailure("SQLite") }
        let details: JSONValue = ["sqlite_code": .int(Int64(rc)), "database": .string(settings.name)]
        switch primary {
        case SQLITE_ERROR, SQLITE_RANGE, SQLITE_MISMATCH, SQLITE_TOOBIG:
            return CallFailure(.invalidInput, "SQLite: \(message)", details: details)
        case SQLITE_READONLY:
            return .readOnly(settings.name)
        case SQLITE_CONSTRAINT:
            return CallFailure(.conflict, "SQLite: \(message)", details: details)
        case SQLITE_BUSY, SQLITE_LOCKED:
            return CallFailure(.upstreamError, "SQLite database \"\(settings.name)\" is locked by another writer past busy_timeout_ms: \(message)",
                               retryable: true, details: details)
        case SQLITE_FULL, SQLITE_NOMEM:
            return CallFailure(.resourceExhausted, "SQLite: \(message)", details: details)
        default:
            return CallFailure(.upstreamError, "SQLite: \(message)", details: details)
        }
    }
}

/// SQLite parameter names that stand for a position: `?NNN` and `$NNN`.
enum SQLiteParameters {
    static func positionalNumber(_ name: String) -> Int? {
        guard name.hasPrefix("?") || name.hasPrefix("$"), name.count > 1 else { return nil }
        return Int(name.dropFirst()).flatMap { $0 > 0 ? $0 : nil }
    }
}

/// A column of the current row as JSON: by its storage class, refined by the declared type
/// (`BOOLEAN` → true/false, `JSON` → the parsed value).
enum SQLiteValues {
    static func column(_ stmt: OpaquePointer, _ c: Int32) -> JSONValue {
        let declared = sqlite3_column_decltype(stmt, c).map { String(cString: $0).uppercased() } ?? ""
        switch sqlite3_column_type(stmt, c) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER:
            let n = sqlite3_column_int64(stmt, c)
            if declared.hasPrefix("BOOL") && (n == 0 || n == 1) { return .bool(n == 1) }
            return .int(n)
        case SQLITE_FLOAT:
            let d = sqlite3_column_double(stmt, c)
            return d.isFinite ? .double(d) : .string("\(d)")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(stmt, c))
            guard count > 0, let p = sqlite3_column_blob(stmt, c) else { return BindValue.blobJSON([]) }
            return BindValue.blobJSON(Array(UnsafeRawBufferPointer(start: p, count: count)))
        default:
            let count = Int(sqlite3_column_bytes(stmt, c))
            let text = sqlite3_column_text(stmt, c).map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""
            if declared == "JSON" || declared == "JSONB", let parsed = try? JSONParser.parse(text) { return parsed }
            return .string(text)
        }
    }
}
