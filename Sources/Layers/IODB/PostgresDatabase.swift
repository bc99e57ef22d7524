import Dispatch
import JALMWire
import Synchronization

/// A PostgreSQL database: a small pool of libpq connections, each with its own serial queue (the
/// dedicated thread its blocking libpq calls run on). Connections open on first use and are dropped
/// and reopened when they break. TLS is used when the server offers it (`sslmode=prefer`, unless the
/// DSN says otherwise).
final class PostgresDatabase: Database, @unchecked Sendable {
    let settings: DatabaseSettings
    private let dsn: String
    private let slots: [Slot]
    private let state: Mutex<PoolState>

    /// One connection place: its queue, and the connection touched only on that queue.
    final class Slot: @unchecked Sendable {
        let queue: DispatchQueue
        var connection: PostgresConnection?
        init(label: String) { queue = DispatchQueue(label: label) }
    }

    struct PoolState: ~Copyable {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    init(settings: DatabaseSettings) {
        guard case .postgres(let dsn) = settings.engine else { preconditionFailure("not a postgres database") }
        self.settings = settings
        self.dsn = dsn
        self.slots = (0..<settings.poolSize).map { Slot(label: "io-db.postgres.\(settings.name).\($0)") }
        self.state = Mutex(PoolState(idle: Array((0..<settings.poolSize).reversed())))
    }

    func query(_ statement: Statement, limits: RowLimits, control: CallControl) async throws(CallFailure) -> JSONValue {
        let (sql, values) = try PostgresParameters.prepare(statement)
        return try await withConnection(control) { (c: PostgresConnection) throws(CallFailure) -> JSONValue in
            // A read-only transaction: a statement that writes fails with 25006 (invalid_input).
            _ = try c.run("BEGIN READ ONLY", [], control: control)
            var collector = RowCollector(limits: limits)
            let outcome = try c.run(sql, values, into: &collector, control: control)
            _ = try c.run("COMMIT", [], control: control)
            return ["columns": .array(outcome.columns.map { .string($0) }), "rows": .array(outcome.rows),
                    "row_count": .int(Int64(outcome.rows.count))]
        }
    }

    func write(_ statements: [Statement], limits: RowLimits, idempotencyKey: String?, commit: Bool,
               control: CallControl, render: @escaping @Sendable ([WriteResult]) -> JSONValue) async throws(CallFailure) -> WriteOutcome {
        guard !settings.readOnly else { throw .readOnly(settings.name) }
        var prepared: [(String, [BindValue])] = []
        for (i, statement) in statements.enumerated() {
            do throws(CallFailure) { prepared.append(try PostgresParameters.prepare(statement)) }
            catch { throw error.inStatement(i, of: statements.count) }
        }
        let key = commit ? idempotencyKey : nil
        let table = IdempotencyTable.name
        let work = prepared
        return try await withConnection(control) { (c: PostgresConnection) throws(CallFailure) -> WriteOutcome in
            if key != nil && !c.hasIdempotencyTable {
                _ = try c.run("CREATE TABLE IF NOT EXISTS \(table) (key text PRIMARY KEY, result text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())", [], control: control)
                c.hasIdempotencyTable = true
            }
            _ = try c.run("BEGIN", [], control: control)
            if let key {
                // Two attempts with one key serialize here; the second then finds the first's row.
                _ = try c.run("SELECT pg_advisory_xact_lock(hashtextextended($1, 74))", [.text(key)], control: control)
                let found = try c.run("SELECT result FROM \(table) WHERE key = $1", [.text(key)], control: control)
                if let text = found.rows.first?["result"]?.stringValue {
                    _ = try c.run("ROLLBACK", [], control: control)
                    return .replayed((try? JSONParser.parse(text)) ?? .null)
                }
            }
            var results: [WriteResult] = []
            var collector = RowCollector(limits: limits)
            for (i, (sql, values)) in work.enumerated() {
                do throws(CallFailure) {
                    let outcome = try c.run(sql, values, into: &collector, control: control)
                    let returning = !outcome.columns.isEmpty
                    // The first column of the first RETURNING row of a data change; a SELECT has none.
                    let changesData = returning && outcome.rowsAffected > 0
                    results.append(WriteResult(
                        rowsAffected: outcome.rowsAffected,
                        lastInsertID: changesData ? (outcome.rows.first?[outcome.columns[0]] ?? .null) : .null,
                        rows: returning ? outcome.rows : nil))
                } catch { throw error.inStatement(i, of: work.count) }
            }
            let output = render(results)
            if let key {
                _ = try c.run("INSERT INTO \(table) (key, result) VALUES ($1, $2)",
                              [.text(key), .text(JSONWriter.string(output, sortedKeys: true))], control: control)
            }
            _ = try c.run(commit ? "COMMIT" : "ROLLBACK", [], control: control)
            return .applied(output)
        }
    }

    // MARK: - The pool

    /// Runs `body` with a connection on its slot's queue; afterwards the connection goes back to the
    /// pool (rolled back if a failure left a transaction open, dropped if broken).
    private func withConnection<T: Sendable>(_ control: CallControl,
                                             _ body: @escaping @Sendable (PostgresConnection) throws(CallFailure) -> T) async throws(CallFailure) -> T {
        let index = await acquire()
        defer { release(index) }
        let slot = slots[index]
        let dsn = self.dsn
        let settings = self.settings
        return try await onQueue(slot.queue) { () throws(CallFailure) -> T in
            if slot.connection == nil { slot.connection = try PostgresConnection(dsn: dsn, settings: settings) }
            let c = slot.connection!
            do throws(CallFailure) {
                return try body(c)
            } catch {
                if c.inTransaction {
                    // A fresh budget for the rollback: the call's own deadline may be what failed it.
                    _ = try? c.run("ROLLBACK", [], control: CallControl(deadline: .now + .seconds(5)))
                }
                if !c.isHealthy { slot.connection = nil }
                throw error
            }
        }
    }

    private func acquire() async -> Int {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let index: Int? = state.withLock { s in
                if let i = s.idle.popLast() { return i }
                s.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = state.withLock { s in
            if s.waiters.isEmpty { s.idle.append(index); return nil }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
