#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import JALMPlatform
import Synchronization

/// The journal: executions, step runs and layer events in one SQLite file in WAL mode.
///
/// All writes go through one writer thread that commits them in groups: whatever is queued when it wakes
/// becomes one transaction, so many concurrent callers share one fsync.
///
/// **Ordering guarantee (the engine relies on it):** writes are applied in the order `submit`/`commit`
/// were called (FIFO), each call's writes all-or-nothing. When a `commit` returns, its writes and every
/// write submitted before it are durable, except the ones that failed on their own (their `commit`
/// threw, or for `submit` they count in `stats.failedWrites`).
///
/// Reads run synchronously on a small pool of reader connections and see committed data only.
public final class Store: Sendable {
    /// Counters for tests and benchmarks.
    public struct Stats: Sendable, Hashable {
        /// Transactions committed by the writer (one per group commit).
        public var transactions = 0
        /// Writes that committed.
        public var writes = 0
        /// Writes that were rolled back (their own error, a lost batch, or submitted after `close`).
        public var failedWrites = 0
        /// The most recent write error.
        public var lastError: RunnerError?
    }

    /// The path of the database file.
    public let path: String
    private let committer: GroupCommitter
    private let writerThread: Mutex<OSThread?>
    private let readers: [ReaderSlot]
    private let nextReader = Atomic<Int>(0)

    /// Opens the journal at `path` (its directory must exist), migrates it, and starts the writer thread.
    public init(path: String, synchronous: Synchronous = .full, readers: Int = 4) throws(RunnerError) {
        self.path = path
        let writer = try SQLiteConnection(path: path)
        try Self.configureWriter(writer, synchronous: synchronous)
        try Migrations.apply(to: writer)
        var slots: [ReaderSlot] = []
        for _ in 0..<max(1, readers) { slots.append(try ReaderSlot(path: path)) }
        self.readers = slots
        let committer = GroupCommitter(connection: writer)
        self.committer = committer
        // A joinable OS thread: the writer blocks in fsync and must stay off the cooperative pool.
        do {
            self.writerThread = Mutex(try OSThread.startJoinable { committer.run() })
        } catch {
            throw RunnerError(.internal, "cannot start the store writer thread: \(error)")
        }
    }

    deinit { close() }

    /// Queues `writes` and returns at once; they commit with the next group, in order.
    public func submit(_ writes: [StoreWrite]) {
        guard !writes.isEmpty else { return }
        if !committer.queue.enqueue(PendingWrite(writes: writes, waiter: nil)) { refused(writes.count) }
    }

    /// Queues `writes` and returns when the transaction holding them is durable; throws the error that
    /// rolled them back (only these writes: the rest of the group still commits).
    public func commit(_ writes: [StoreWrite]) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            if !committer.queue.enqueue(PendingWrite(writes: writes, waiter: waiter)) {
                refused(writes.count)
                waiter.resume(throwing: Self.closedError)
            }
        }
    }

    /// Returns when everything queued before the call has been committed (or has failed).
    public func flush() async throws {
        try await commit([])
    }

    /// Drains the queue, stops the writer thread and closes the connections. Idempotent; later writes
    /// fail and later reads throw.
    public func close() {
        guard committer.queue.close() else { return }
        if let thread = writerThread.withLock({ t in defer { t = nil }; return t }) {
            thread.join()
        }
        for reader in readers { reader.connection.withLock { $0.close() } }
    }

    /// Counters since the store was opened.
    public var stats: Stats { committer.stats.withLock { $0 } }

    /// Runs `body` on one of the reader connections.
    func read<R: Sendable>(_ body: (SQLiteConnection) throws(RunnerError) -> R) throws(RunnerError) -> R {
        let n = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = readers[Int(UInt(bitPattern: n) % UInt(readers.count))]
        return try slot.connection.withLock { db throws(RunnerError) in try body(db) }
    }

    static let closedError = RunnerError(.internal, "the store is closed")

    private func refused(_ count: Int) {
        committer.stats.withLock {
            $0.failedWrites += count
            $0.lastError = Self.closedError
        }
    }

    private static func configureWriter(_ db: SQLiteConnection, synchronous: Synchronous) throws(RunnerError) {
        let mode = try db.using("PRAGMA journal_mode = WAL") { s throws(RunnerError) in
            _ = try s.step()
            return s.string(at: 0)
        }
        guard mode?.lowercased() == "wal" else {
            throw RunnerError(.internal, "sqlite: cannot put \(db.path) in WAL mode (journal_mode is \(mode ?? "?"))")
        }
        try db.exec("PRAGMA synchronous = \(synchronous.pragma)")
    }
}

/// One reader connection and the lock that gives it to one thread at a time.
final class ReaderSlot: Sendable {
    let connection: Mutex<SQLiteConnection>

    init(path: String) throws(RunnerError) {
        let db = try SQLiteConnection(path: path)
        try db.exec("PRAGMA query_only = ON")
        connection = Mutex(db)
    }
}
