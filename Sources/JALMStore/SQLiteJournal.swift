#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import JALMPlatform
import JALMWire
import Synchronization

/// The journal on SQLite: one file in WAL mode, the embedded default.
///
/// All writes go through one writer thread that commits them in groups: whatever is queued when it wakes
/// becomes one transaction, so many callers share one fsync. Reads run on a small pool of `query_only`
/// connections and see committed data only.
///
/// Opening the journal claims it: a new epoch is its fencing token, and every execution that has not ended
/// is handed to it (the data folder's lock keeps a second jalmd out, so there is one owner at a time).
public final class SQLiteJournal: Journal, LayerHistory, Sendable {
    /// Counters for tests and benchmarks.
    public struct Stats: Sendable, Hashable {
        /// Transactions committed by the writer (one per group commit).
        public var transactions = 0
        /// `write` calls that committed.
        public var writes = 0
        /// `write` calls that were refused or rolled back.
        public var failedWrites = 0
        public var lastError: RunnerError?
    }

    public let path: String
    public let owner: FencingToken
    /// How long a group write may wait for company: `journal_group_delay`.
    public static let defaultGroupDelay: Duration = .milliseconds(10)
    private let committer: JournalCommitter
    private let writerThread: Mutex<OSThread?>
    let readers: [ReaderSlot]
    private let nextReader = Atomic<Int>(0)

    /// Opens (creating or upgrading) the journal at `path`, whose directory must exist, claims it, and starts
    /// the writer thread. `upgrade` turns the executions of a schema-1 journal into events. A group write
    /// waits at most `groupDelay` for a durable one to share its commit.
    public init(path: String, synchronous: Synchronous = .full, readers: Int = 4,
                groupDelay: Duration = SQLiteJournal.defaultGroupDelay, upgrade: LegacyUpgrade? = nil)
        throws(RunnerError)
    {
        self.path = path
        let db = try SQLiteConnection(path: path)
        try Self.configureWriter(db, synchronous: synchronous)
        try Migrations.apply(to: db, upgrade: upgrade)
        let epoch = try Self.claim(db)
        self.owner = FencingToken(epoch)
        var slots: [ReaderSlot] = []
        for _ in 0..<max(1, readers) { slots.append(try ReaderSlot(path: path)) }
        self.readers = slots
        let committer = JournalCommitter(writer: JournalWriter(db: db, epoch: epoch), groupDelay: groupDelay)
        self.committer = committer
        // A joinable OS thread: the writer blocks in fsync and must stay off the cooperative pool.
        do {
            self.writerThread = Mutex(try OSThread.startJoinable { committer.run() })
        } catch {
            throw RunnerError(.internal, "cannot start the journal's writer thread: \(error)")
        }
    }

    deinit { close() }

    public func write(_ writes: [JournalWrite], durability: Durability,
                      completion: (@Sendable (RunnerError?) -> Void)?) {
        enqueue(PendingWrite(change: .journal(writes), durable: durability == .durable, completion: completion))
    }

    public func flush() async throws(RunnerError) {
        let error: RunnerError? = await withCheckedContinuation { c in
            enqueue(PendingWrite(change: .journal([]), durable: true) { c.resume(returning: $0) })
        }
        if let error { throw error }
    }

    public func record(_ event: LayerEventRecord) {
        enqueue(PendingWrite(change: .layerEvent(event), durable: false, completion: nil))
    }

    /// Drains the queue, stops the writer thread and closes the connections. Idempotent; later writes
    /// fail and later reads throw.
    public func close() {
        guard committer.queue.close() else { return }
        if let thread = writerThread.withLock({ t in defer { t = nil }; return t }) { thread.join() }
        for reader in readers { reader.connection.withLock { $0.close() } }
    }

    /// Counters since the journal was opened.
    public var stats: Stats { committer.stats.withLock { $0 } }

    static let closedError = RunnerError(.internal, "the journal is closed")

    private func enqueue(_ write: PendingWrite) {
        guard committer.queue.enqueue(write) else {
            committer.stats.withLock {
                $0.failedWrites += 1
                $0.lastError = Self.closedError
            }
            write.completion?(Self.closedError)
            return
        }
    }

    /// Runs `body` on one of the reader connections.
    func read<R: Sendable>(_ body: (SQLiteConnection) throws(RunnerError) -> R) throws(RunnerError) -> R {
        let n = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = readers[Int(UInt(bitPattern: n) % UInt(readers.count))]
        return try slot.connection.withLock { db throws(RunnerError) in try body(db) }
    }

    /// A new epoch, and every unfinished execution fenced with it.
    private static func claim(_ db: SQLiteConnection) throws(RunnerError) -> Int64 {
        try db.exec("BEGIN IMMEDIATE")
        do throws(RunnerError) {
            try db.run("INSERT INTO meta (key, value) VALUES ('epoch', 1) "
                       + "ON CONFLICT (key) DO UPDATE SET value = value + 1")
            let epoch = try db.using("SELECT value FROM meta WHERE key = 'epoch'") { s throws(RunnerError) in
                _ = try s.step()
                return s.int64(at: 0)
            }
            try db.run("UPDATE executions SET fence = ?1 WHERE state IN ('pending', 'running')", [.integer(epoch)])
            try db.exec("COMMIT")
            return epoch
        } catch {
            try? db.exec("ROLLBACK")
            throw error
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
        // The writer never needs foreign-key checks: it writes documents before executions, executions before events.
        try db.exec("PRAGMA foreign_keys = OFF")
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
