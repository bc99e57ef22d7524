import JALMWire

/// One SQL statement and its parameters, as the capsule gave them. Values are always bound by the
/// engine, never spliced into the text.
struct Statement: Sendable, Equatable {
    var sql: String
    var parameters: Parameters

    /// `?`/`$1` take `positional` (a JSON array, in order); `:name` takes `named` (a JSON object).
    enum Parameters: Sendable, Equatable {
        case positional([BindValue])
        case named([String: BindValue])
    }
}

/// A parameter value as an engine binds it.
///
/// JSON maps as: null → NULL, boolean → boolean (SQLite: 0/1), integer → 64-bit integer, number → double,
/// string → text, `{"$blob": "<base64>"}` → bytes, any other object or array → its JSON text (for
/// json/jsonb columns and SQLite's JSON functions).
enum BindValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    /// The key of the one-member object that carries bytes, in parameters and in rows.
    static let blobKey = "$blob"

    init(_ json: JSONValue) throws(CallFailure) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .text(s)
        case .object(let o) where o.count == 1 && o[Self.blobKey] != nil:
            guard let text = o[Self.blobKey]?.stringValue, let bytes = Base64.decode(text) else {
                throw CallFailure(.invalidInput, "a {\"$blob\": ...} parameter must hold base64 text",
                                  details: ["reason": "bad_blob"])
            }
            self = .blob(bytes)
        case .object, .array: self = .text(JSONWriter.string(json, sortedKeys: true))
        }
    }

    /// A blob as it appears in a row: `{"$blob": "<base64>"}`, so that it round-trips as a parameter.
    static func blobJSON(_ bytes: [UInt8]) -> JSONValue { .object([blobKey: .string(Base64.encode(bytes))]) }
}

/// How much a `query` (or a statement that returns rows) may bring back.
struct RowLimits: Sendable, Equatable {
    var maxRows: Int
    /// Bytes of the rows as compact JSON.
    var maxBytes: Int

    static let defaultMaxRows = 1_000
    static let maxMaxRows = 1_000_000
    static let defaultMaxBytes = 4 * 1024 * 1024
    /// Below the kernel's 16 MiB frame, leaving room for the rest of the reply.
    static let maxMaxBytes = 12 * 1024 * 1024
}

/// Rows gathered under `RowLimits`; the first row past a limit is an error naming that limit. One collector
/// serves a whole call, so in a batch the limits bound all statements' rows together (and with them the
/// reply, which must fit a frame); `takeRows()` hands over one statement's rows and keeps the counts.
struct RowCollector {
    let limits: RowLimits
    private(set) var rows: [JSONValue] = []
    private var count = 0
    private var bytes = 2

    init(limits: RowLimits) { self.limits = limits }

    mutating func append(_ row: [String: JSONValue]) throws(CallFailure) {
        let value = JSONValue.object(row)
        guard count < limits.maxRows else {
            throw CallFailure(.resourceExhausted,
                              "the result has more than max_rows (\(limits.maxRows)) rows; raise max_rows or narrow the query",
                              details: ["limit": "max_rows", "value": .int(Int64(limits.maxRows))])
        }
        bytes += JSONWriter.bytes(value).count + (count == 0 ? 0 : 1)
        guard bytes <= limits.maxBytes else {
            throw CallFailure(.resourceExhausted,
                              "the result is larger than max_bytes (\(limits.maxBytes)) as JSON; raise max_bytes or select fewer columns",
                              details: ["limit": "max_bytes", "value": .int(Int64(limits.maxBytes))])
        }
        rows.append(value)
        count += 1
    }

    /// The rows gathered since the last call; the limits keep counting what was taken.
    mutating func takeRows() -> [JSONValue] {
        defer { rows = [] }
        return rows
    }
}

/// What one write statement did.
struct WriteResult: Sendable, Equatable {
    var rowsAffected: Int64
    /// SQLite: the rowid of the inserted row; PostgreSQL: the first column of `RETURNING`, if any.
    var lastInsertID: JSONValue
    /// Rows the statement returned (`RETURNING`), or nil when it returns none.
    var rows: [JSONValue]?

    var json: JSONValue {
        var o: [String: JSONValue] = ["rows_affected": .int(rowsAffected), "last_insert_id": lastInsertID]
        if let rows { o["rows"] = .array(rows) }
        return .object(o)
    }
}
