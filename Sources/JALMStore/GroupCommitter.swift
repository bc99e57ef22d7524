import JALMCore
import Synchronization

/// The writer thread's loop: take every queued write, apply them in order in one `BEGIN IMMEDIATE`
/// transaction, commit (one fsync for all), then resume the waiters of that batch.
///
/// Each queued entry (one `submit` or `commit` call) runs inside its own SAVEPOINT, so an entry that fails
/// (a foreign key, a duplicate id) is rolled back alone and reported to its own waiter while the rest of the
/// batch still commits; the bad record cannot poison the others, and FIFO order is kept without a retry pass.
final class GroupCommitter: Sendable {
    let queue = WriteQueue()
    /// Only the writer thread locks it, so the lock is never contended; it makes the connection Sendable.
    private let db: Mutex<SQLiteConnection>
    let stats = Mutex(Store.Stats())

    init(connection: sending SQLiteConnection) {
        self.db = Mutex(connection)
    }

    /// Runs until the queue is closed and drained, then closes the writer connection.
    func run() {
        while let batch = queue.takeAll() { commit(batch) }
        db.withLock { $0.close() }
    }

    /// Applies and commits one batch, then reports to every waiter in it.
    func commit(_ batch: [PendingWrite]) {
        let outcome = db.withLock { db in Self.apply(batch, on: db) }
        record(batch, outcome)
        for (i, entry) in batch.enumerated() {
            guard let waiter = entry.waiter else { continue }
            switch outcome {
            case .success(let failures): if let e = failures[i] { waiter.resume(throwing: e) } else { waiter.resume() }
            case .failure(let error): waiter.resume(throwing: error)
            }
        }
    }

    /// Per-entry errors if the transaction committed, or the error that lost the whole batch.
    static func apply(_ batch: [PendingWrite], on db: SQLiteConnection) -> Result<[RunnerError?], RunnerError> {
        // A batch of bare `flush()` markers needs no transaction: everything before it has committed already.
        guard batch.contains(where: { !$0.writes.isEmpty }) else { return .success(batch.map { _ in nil }) }
        do throws(RunnerError) {
            try db.run("BEGIN IMMEDIATE")
            var failures: [RunnerError?] = []
            failures.reserveCapacity(batch.count)
            for entry in batch { failures.append(try applyIsolated(entry.writes, on: db)) }
            try db.run("COMMIT")
            return .success(failures)
        } catch {
            if db.isInTransaction { try? db.run("ROLLBACK") }
            return .failure(error)
        }
    }

    /// Applies one entry all-or-nothing; returns its error, or throws when the transaction itself is lost.
    static func applyIsolated(_ writes: [StoreWrite], on db: SQLiteConnection) throws(RunnerError) -> RunnerError? {
        if writes.isEmpty { return nil }
        try db.run("SAVEPOINT entry")
        do throws(RunnerError) {
            for write in writes { try write.apply(on: db) }
            try db.run("RELEASE entry")
            return nil
        } catch {
            // Some errors (SQLITE_FULL, SQLITE_IOERR) roll back the whole transaction: then the batch is lost.
            guard db.isInTransaction else { throw error }
            try db.run("ROLLBACK TO entry")
            try db.run("RELEASE entry")
            return error
        }
    }

    private func record(_ batch: [PendingWrite], _ outcome: Result<[RunnerError?], RunnerError>) {
        stats.withLock { stats in
            switch outcome {
            case .success(let failures):
                if batch.contains(where: { !$0.writes.isEmpty }) { stats.transactions += 1 }
                for (entry, failure) in zip(batch, failures) {
                    if let failure {
                        stats.failedWrites += entry.writes.count
                        stats.lastError = failure
                    } else {
                        stats.writes += entry.writes.count
                    }
                }
            case .failure(let error):
                stats.failedWrites += batch.reduce(0) { $0 + $1.writes.count }
                stats.lastError = error
            }
        }
    }
}
