#if canImport(Glibc)
import Glibc
#endif
import CLibPQ
import JALMWire

/// One libpq connection, used by one thread at a time (the pool hands it out).
///
/// Every statement goes out with `PQsendQueryParams` (values in the bind message, never in the SQL text;
/// one statement per call, which PostgreSQL enforces for the extended protocol), and the answer is
/// awaited with `poll` on the socket in short slices, so that a passed deadline or a cancel sends a
/// cancel request (`PQcancel`) to the server; the statement ends with SQLSTATE 57014 and the connection
/// stays usable.
final class PostgresConnection {
    let conn: OpaquePointer
    let databaseName: String
    var hasIdempotencyTable = false

    /// Connects (blocking; libpq's own `connect_timeout`, 10 s unless the DSN says otherwise) and sets
    /// the session: UTC, ISO dates, exact floats, and read-only transactions for a read-only database.
    init(dsn: String, settings: DatabaseSettings) throws(CallFailure) {
        databaseName = settings.name
        // With expand_dbname the DSN is parsed; keys given before it are defaults it may override.
        let keys = ["connect_timeout", "sslmode", "application_name", "dbname"]
        let values = ["10", "prefer", "jalm-io-db", dsn]
        let handle: OpaquePointer? = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let handle else { throw CallFailure(.resourceExhausted, "libpq: out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingWhitespace
            PQfinish(handle)
            throw CallFailure(.upstreamError, "cannot connect to PostgreSQL database \"\(settings.name)\": \(message)",
                              details: ["database": .string(settings.name), "reason": "connect_failed"])
        }
        conn = handle
        var session = ["SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET extra_float_digits = 3",
                       "SET IntervalStyle = 'iso_8601'"]
        if settings.readOnly { session.append("SET default_transaction_read_only = on") }
        let control = CallControl(deadline: .now + .seconds(10))
        for sql in session { _ = try run(sql, [], control: control) }
    }

    deinit { PQfinish(conn) }

    /// False once the connection broke; the pool then drops it.
    var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE }
    var inTransaction: Bool { PQtransactionStatus(conn) == PQTRANS_INTRANS || PQtransactionStatus(conn) == PQTRANS_INERROR }

    /// A finished statement: its columns, its rows (those not handed to a collector), and the rows it
    /// changed (INSERT, UPDATE, DELETE, MERGE; 0 for anything else, as with SQLite).
    struct Outcome {
        var columns: [String] = []
        var rows: [JSONValue] = []
        var rowsAffected: Int64 = 0
    }

    /// Runs one statement with `values` bound as `$1…$n`, keeping its rows in the outcome.
    func run(_ sql: String, _ values: [BindValue], control: CallControl) throws(CallFailure) -> Outcome {
        var none: RowCollector?
        return try run(sql, values, collector: &none, control: control)
    }

    /// The same, adding each row to `collector` as it arrives (libpq's single-row mode): the first row past
    /// a limit cancels the statement, so a large result never sits whole in memory.
    func run(_ sql: String, _ values: [BindValue], into collector: inout RowCollector, control: CallControl) throws(CallFailure) -> Outcome {
        var some: RowCollector? = collector
        defer { collector = some! }
        return try run(sql, values, collector: &some, control: control)
    }

    private func run(_ sql: String, _ values: [BindValue], collector: inout RowCollector?,
                     control: CallControl) throws(CallFailure) -> Outcome {
        guard !control.shouldStop else { throw control.stoppedFailure("PostgreSQL") }
        let sent = PostgresValues.withParameters(values) { types, params, lengths, formats in
            PQsendQueryParams(conn, sql, Int32(values.count), types, params, lengths, formats, 0)
        }
        guard sent == 1 else { throw connectionFailure() }
        if collector != nil { _ = PQsetSingleRowMode(conn) }
        var stopped = false
        var outcome = Outcome()
        var failure: CallFailure?
        while true {
            while PQisBusy(conn) == 1 {
                if !stopped && (failure != nil || control.shouldStop) {
                    stopped = true
                    cancelRunningStatement()
                }
                var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
                let slice = stopped ? 1000 : min(max(control.remainingMs, 1), 50)
                if poll(&fds, 1, Int32(slice)) < 0 && errno != EINTR { throw connectionFailure() }
                if PQconsumeInput(conn) == 0 { throw connectionFailure() }
            }
            guard let result = PQgetResult(conn) else { break }
            defer { PQclear(result) }
            guard failure == nil else { continue }  // drain what is left after a failure or a cancel
            let status = PQresultStatus(result)
            switch status {
            case PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                if outcome.columns.isEmpty {
                    outcome.columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
                }
                if status != PGRES_SINGLE_TUPLE { outcome.rowsAffected = Self.rowsChanged(result) }
                for r in 0..<PQntuples(result) {
                    let row = PostgresValues.row(result, r, columns: outcome.columns)
                    if collector == nil {
                        outcome.rows.append(.object(row))
                    } else {
                        do throws(CallFailure) { try collector!.append(row) } catch { failure = error; break }
                    }
                }
            default:
                failure = statementFailure(result, stopped: stopped, control: control)
            }
        }
        if let failure { throw failure }
        if collector != nil { outcome.rows = collector!.takeRows() }
        return outcome
    }

    /// `PQcmdTuples` counts the rows of SELECT and CREATE TABLE AS too; only data changes count here.
    private static func rowsChanged(_ result: OpaquePointer) -> Int64 {
        let tag = String(cString: PQcmdStatus(result))
        guard ["INSERT ", "UPDATE ", "DELETE ", "MERGE "].contains(where: tag.hasPrefix) else { return 0 }
        return Int64(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Sends a cancel request on a separate connection to the server (libpq's PQcancel).
    private func cancelRunningStatement() {
        guard let cancel = PQgetCancel(conn) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        PQfreeCancel(cancel)
    }

    private func connectionFailure() -> CallFailure {
        CallFailure(.upstreamError, "PostgreSQL database \"\(databaseName)\": \(String(cString: PQerrorMessage(conn)).trimmingWhitespace)",
                    details: ["database": .string(databaseName), "reason": "connection_lost"])
    }

    /// A failed statement as a `CallFailure`, by SQLSTATE class.
    private func statementFailure(_ result: OpaquePointer, stopped: Bool, control: CallControl) -> CallFailure {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace
        let details: JSONValue = ["sqlstate": .string(state), "database": .string(databaseName)]
        if state == "57014" && stopped { return control.stoppedFailure("PostgreSQL") }
        if state == "25006" {
            return CallFailure(.invalidInput, "PostgreSQL: \(message) (query runs in a read-only transaction; use exec or batch to change data, and not on a read_only database)",
                               details: ["sqlstate": .string(state), "database": .string(databaseName), "reason": "read_only_transaction"])
        }
        // 08P01 is the server refusing the bind message (e.g. a parameter count it did not expect).
        if state == "08P01" { return CallFailure(.invalidInput, "PostgreSQL: \(message)", details: details) }
        switch state.prefix(2) {
        case "42", "22", "2F", "0A":
            return CallFailure(.invalidInput, "PostgreSQL: \(message)", details: details)
        case "23":
            return CallFailure(.conflict, "PostgreSQL: \(message)", details: details)
        case "40":
            return CallFailure(.upstreamError, "PostgreSQL: \(message)", retryable: true, details: details)
        case "53", "54":
            return CallFailure(.resourceExhausted, "PostgreSQL: \(message)", details: details)
        case "57" where state == "57014":
            return CallFailure(.timeout, "PostgreSQL: \(message)", details: details)
        default:
            return CallFailure(.upstreamError, "PostgreSQL: \(message)", details: details)
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s.removeLast() }
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        return String(s)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
