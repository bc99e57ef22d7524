import JALMCore
import Synchronization

/// The writer thread's loop: take every queued write, apply them in order in one `BEGIN IMMEDIATE`
/// transaction, commit (one fsync for all), then run the completions of that batch.
///
/// A batch is applied whole first. If one entry fails (a stale fence, a taken idempotency key), the batch
/// is rolled back and applied again with each entry in its own SAVEPOINT, so that the bad entry fails alone
/// and the rest still commit, in FIFO order. The fast path costs no savepoints.
final class JournalCommitter: Sendable {
    let queue: WriteQueue
    /// Only the writer thread locks it, so the lock is never contended; it makes the writer Sendable.
    private let writer: Mutex<JournalWriter>
    let stats = Mutex(SQLiteJournal.Stats())

    init(writer: sending JournalWriter, groupDelay: Duration) {
        self.writer = Mutex(writer)
        self.queue = WriteQueue(groupDelay: groupDelay)
    }

    /// Runs until the queue is closed and drained, then closes the writer connection.
    func run() {
        while let batch = queue.takeAll() { if !batch.isEmpty { commit(batch) } }
        writer.withLock { $0.db.close() }
    }

    func commit(_ batch: [PendingWrite]) {
        let outcome = writer.withLock { w in Self.apply(batch, with: &w) }
        record(batch, outcome)
        for (i, entry) in batch.enumerated() {
            guard let completion = entry.completion else { continue }
            switch outcome {
            case .success(let failures): completion(failures[i])
            case .failure(let error): completion(error)
            }
        }
    }

    /// Per-entry errors if the transaction committed, or the error that lost the whole batch.
    static func apply(_ batch: [PendingWrite], with w: inout JournalWriter) -> Result<[RunnerError?], RunnerError> {
        // A batch of bare `flush()` markers needs no transaction: everything before it has committed already.
        guard batch.contains(where: { !$0.isEmpty }) else { return .success(batch.map { _ in nil }) }
        do throws(RunnerError) {
            try w.db.run("BEGIN IMMEDIATE")
            do throws(RunnerError) {
                for entry in batch { try apply(entry, with: &w) }
                try w.db.run("COMMIT")
                w.commitStaged()
                return .success(batch.map { _ in nil })
            } catch {
                // Some errors (SQLITE_FULL, SQLITE_IOERR) end the transaction on their own: then the batch is lost.
                guard w.db.isInTransaction else { throw error }
                try w.db.run("ROLLBACK")
                w.dropStaged()
            }
            return .success(try applyIsolated(batch, with: &w))
        } catch {
            if w.db.isInTransaction { try? w.db.run("ROLLBACK") }
            w.dropStaged()
            return .failure(error)
        }
    }

    /// The slow path: each entry in its own savepoint.
    static func applyIsolated(_ batch: [PendingWrite], with w: inout JournalWriter) throws(RunnerError) -> [RunnerError?] {
        try w.db.run("BEGIN IMMEDIATE")
        var failures: [RunnerError?] = []
        for entry in batch {
            if entry.isEmpty { failures.append(nil); continue }
            let mark = w.stagedMark
            try w.db.run("SAVEPOINT entry")
            do throws(RunnerError) {
                try apply(entry, with: &w)
                try w.db.run("RELEASE entry")
                failures.append(nil)
            } catch {
                guard w.db.isInTransaction else { throw error }
                try w.db.run("ROLLBACK TO entry")
                try w.db.run("RELEASE entry")
                w.restore(mark)
                failures.append(error)
            }
        }
        try w.db.run("COMMIT")
        w.commitStaged()
        return failures
    }

    static func apply(_ entry: PendingWrite, with w: inout JournalWriter) throws(RunnerError) {
        switch entry.change {
        case .journal(let writes):
            for write in writes { try w.apply(write) }
        case .layerEvent(let e):
            try w.db.run("INSERT INTO layer_events (at, layer, event, detail) VALUES (?1, ?2, ?3, ?4)",
                         [.integer(e.at), .text(e.layer), .text(e.event), .json(e.detail)])
        }
    }

    private func record(_ batch: [PendingWrite], _ outcome: Result<[RunnerError?], RunnerError>) {
        stats.withLock { stats in
            switch outcome {
            case .success(let failures):
                if batch.contains(where: { !$0.isEmpty }) { stats.transactions += 1 }
                for (entry, failure) in zip(batch, failures) where !entry.isEmpty {
                    if let failure {
                        stats.failedWrites += 1
                        stats.lastError = failure
                    } else {
                        stats.writes += 1
                    }
                }
            case .failure(let error):
                stats.failedWrites += batch.count
                stats.lastError = error
            }
        }
    }
}
