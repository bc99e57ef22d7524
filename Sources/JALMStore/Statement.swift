import CSQLite
import JALMCore

/// A value to bind to a statement parameter.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    /// UTF-8 text already in bytes.
    case textBytes([UInt8])
}

/// A prepared statement of a `SQLiteConnection`. Parameter and column indexes are as SQLite numbers
/// them: parameters from 1, columns from 0.
public final class Statement {
    /// The SQL text, also the cache key.
    public let sql: String
    private let handle: OpaquePointer
    private let db: OpaquePointer

    init(handle: OpaquePointer, db: OpaquePointer, sql: String) {
        self.handle = handle
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds a 64-bit integer to parameter `index`.
    public func bind(_ value: Int64, at index: Int) throws(RunnerError) {
        try check(sqlite3_bind_int64(handle, Int32(index), value))
    }

    /// Binds a double to parameter `index`.
    public func bind(_ value: Double, at index: Int) throws(RunnerError) {
        try check(sqlite3_bind_double(handle, Int32(index), value))
    }

    /// Binds UTF-8 text to parameter `index` (SQLite copies it).
    public func bind(_ value: String, at index: Int) throws(RunnerError) {
        try check(sqlite3_bind_text(handle, Int32(index), value, -1, csqlite_transient()))
    }

    /// Binds UTF-8 text given as bytes to parameter `index` (SQLite copies it).
    public func bind(textBytes value: [UInt8], at index: Int) throws(RunnerError) {
        // An empty text still needs a pointer: SQLite reads a NULL pointer as SQL NULL.
        let bytes = value.isEmpty ? [0] : value
        let rc = bytes.withUnsafeBytes {
            sqlite3_bind_text64(handle, Int32(index), $0.baseAddress!.assumingMemoryBound(to: CChar.self),
                                UInt64(value.count), csqlite_transient(), UInt8(SQLITE_UTF8))
        }
        try check(rc)
    }

    /// Binds a blob to parameter `index` (SQLite copies it).
    public func bind(blob value: [UInt8], at index: Int) throws(RunnerError) {
        let rc = value.withUnsafeBytes {
            sqlite3_bind_blob64(handle, Int32(index), $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                UInt64($0.count), csqlite_transient())
        }
        try check(rc)
    }

    /// Binds NULL to parameter `index`.
    public func bindNull(at index: Int) throws(RunnerError) {
        try check(sqlite3_bind_null(handle, Int32(index)))
    }

    /// Binds any `SQLiteValue` to parameter `index`.
    public func bind(_ value: SQLiteValue, at index: Int) throws(RunnerError) {
        switch value {
        case .null: try bindNull(at: index)
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(blob: v, at: index)
        case .textBytes(let v): try bind(textBytes: v, at: index)
        }
    }

    /// Advances: `true` when a row is available, `false` when the statement is done.
    public func step() throws(RunnerError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc:
            throw RunnerError(.internal, "sqlite: \(String(cString: sqlite3_errmsg(db))) (code \(rc)) in: \(sql)")
        }
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(at index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    /// Column `index` as an integer (0 when NULL).
    public func int64(at index: Int) -> Int64 { sqlite3_column_int64(handle, Int32(index)) }

    /// Column `index` as an integer, nil when NULL.
    public func optionalInt64(at index: Int) -> Int64? { isNull(at: index) ? nil : int64(at: index) }

    /// Column `index` as a double (0 when NULL).
    public func double(at index: Int) -> Double { sqlite3_column_double(handle, Int32(index)) }

    /// Column `index` as text, nil when NULL.
    public func string(at index: Int) -> String? {
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` as the bytes of its text, nil when NULL.
    public func textBytes(at index: Int) -> [UInt8]? {
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return Array(UnsafeBufferPointer(start: text, count: count))
    }

    /// Column `index` as bytes, nil when NULL.
    public func blob(at index: Int) -> [UInt8]? {
        if isNull(at: index) { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        guard count > 0, let bytes = sqlite3_column_blob(handle, Int32(index)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Ends the current execution (and with it any read transaction) and clears the bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func check(_ rc: Int32) throws(RunnerError) {
        guard rc == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(db))
            throw RunnerError(.internal, "sqlite: \(message) (code \(rc)) binding in: \(sql)")
        }
    }
}
