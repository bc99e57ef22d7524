import Dispatch
import JALMWire

/// One named database, whatever its engine. Calls may come from many tasks at once; each engine runs
/// its blocking C calls on its own threads (never on Swift's cooperative pool) and serializes or pools
/// its connections itself.
protocol Database: AnyObject, Sendable {
    var settings: DatabaseSettings { get }

    /// Runs one read-only statement and returns `{columns, rows, row_count}`.
    func query(_ statement: Statement, limits: RowLimits, control: CallControl) async throws(CallFailure) -> JSONValue

    /// Runs `statements` in one transaction, all or nothing.
    ///
    /// With `idempotencyKey`, the key and `render(results)` are stored in `_jalm_idempotency` inside the
    /// same transaction; if the key is already there, nothing runs and the stored output comes back as
    /// `.replayed`. With `commit` false (a dry run) the transaction is rolled back and no key is stored.
    func write(_ statements: [Statement], limits: RowLimits, idempotencyKey: String?, commit: Bool,
               control: CallControl, render: @escaping @Sendable ([WriteResult]) -> JSONValue) async throws(CallFailure) -> WriteOutcome
}

enum WriteOutcome: Sendable, Equatable {
    case applied(JSONValue)
    case replayed(JSONValue)
}

/// The table that remembers applied writes, one row per idempotency key, in the database written to.
enum IdempotencyTable {
    static let name = "_jalm_idempotency"
}

extension CallFailure {
    /// A write to a database declared `read_only: true`.
    static func readOnly(_ name: String) -> CallFailure {
        CallFailure(.invalidInput, "database \"\(name)\" is read-only (read_only: true in layers.io-db); it takes query only",
                    details: ["reason": "read_only_database", "database": .string(name)])
    }

    /// Which statement of a batch failed, added to an engine's failure.
    func inStatement(_ index: Int, of count: Int) -> CallFailure {
        guard count > 1 else { return self }
        var copy = self
        copy.message = "statement \(index + 1) of \(count): " + message
        var d = details?.objectValue ?? [:]
        d["statement"] = .int(Int64(index))
        copy.details = .object(d)
        return copy
    }
}

/// Runs a blocking closure on a Dispatch queue (an engine's own thread) and awaits its result.
func onQueue<T: Sendable>(_ queue: DispatchQueue, _ work: @escaping @Sendable () throws(CallFailure) -> T) async throws(CallFailure) -> T {
    let result: Result<T, CallFailure> = await withCheckedContinuation { continuation in
        queue.async {
            do throws(CallFailure) { continuation.resume(returning: .success(try work())) }
            catch { continuation.resume(returning: .failure(error)) }
        }
    }
    return try result.get()
}
