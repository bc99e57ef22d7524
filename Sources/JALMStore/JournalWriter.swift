import JALMCore
import JALMWire

/// Applies journal writes on the writer connection, inside the caller's transaction. Lives on the writer
/// thread (and in the schema upgrade).
///
/// It remembers, for the executions it created or claimed, their row number and fencing token, and the
/// capsule documents it stored recently, so that the hot path needs no lookups. What a transaction adds to
/// that memory is kept aside (`staged`) until the transaction commits, and dropped if it rolls back.
struct JournalWriter {
    let db: SQLiteConnection
    /// The fencing token of this journal's own writes.
    let epoch: Int64

    struct Known { var n: Int64; var fence: Int64 }
    private(set) var known: [String: Known] = [:]
    private var documents: [Int64: [(n: Int64, body: [UInt8])]] = [:]
    private var documentCount = 0
    static let documentCacheLimit = 512

    /// What the open transaction taught us, applied by `commitStaged`.
    private var staged = Staged()
    struct Staged {
        var known: [String: Known?] = [:]
        var documents: [(hash: Int64, n: Int64, body: [UInt8])] = []
    }

    init(db: SQLiteConnection, epoch: Int64) {
        self.db = db
        self.epoch = epoch
    }

    mutating func commitStaged() {
        for (id, k) in staged.known { known[id] = k }
        for d in staged.documents {
            if documentCount >= Self.documentCacheLimit {
                documents.removeAll(keepingCapacity: true)
                documentCount = 0
            }
            documents[d.hash, default: []].append((d.n, d.body))
            documentCount += 1
        }
        staged = Staged()
    }

    mutating func dropStaged() { staged = Staged() }

    /// A savepoint's worth of staged memory, to restore if the savepoint rolls back.
    var stagedMark: Staged { staged }
    mutating func restore(_ mark: Staged) { staged = mark }

    mutating func apply(_ write: JournalWrite) throws(RunnerError) {
        switch write {
        case .create(let execution, let events, let summary):
            try create(execution, events: events, summary: summary)
        case .append(let id, let owner, let events, let summary):
            let k = try owned(id, by: owner)
            for e in events { try insert(e, execution: k.n) }
            if let summary {
                try db.run(Self.updateSummarySQL, [.integer(k.n), .text(summary.state), .integer(summary.startedAt),
                                                   .integer(summary.finishedAt), .json(summary.error)])
                if summary.state != "pending" && summary.state != "running" { staged.known[id] = .some(nil) }
            }
        }
    }

    private mutating func create(_ x: NewExecution, events: [EventRecord], summary: ExecutionSummary)
        throws(RunnerError)
    {
        if let key = x.idempotencyKey {
            // An older execution whose window has passed lets go of the key; a recent one keeps it.
            try db.run("UPDATE executions SET idempotency_key = NULL WHERE idempotency_key = ?1 AND created_at < ?2",
                       [.text(key), .integer(x.keyWindowStart)])
            let taken = try db.using("SELECT id FROM executions WHERE idempotency_key = ?1") { s throws(RunnerError) in
                try s.bind(key, at: 1)
                return try s.step() ? s.string(at: 0) : nil
            }
            if let taken {
                throw RunnerError(.conflict, "idempotency key \"\(key)\" is taken by execution \(taken)",
                                  details: ["execution_id": .string(taken)])
            }
        }
        let document = try documentNumber(x.document)
        try db.run(Self.insertExecutionSQL, [
            .text(x.id), .text(x.intent), .text(summary.state), .integer(document), .integer(x.createdAt),
            .integer(summary.startedAt), .integer(summary.finishedAt), .json(summary.error), .text(x.idempotencyKey),
            .integer(epoch),
        ])
        let n = db.lastInsertRowID
        for e in events { try insert(e, execution: n) }
        let final = summary.state != "pending" && summary.state != "running"
        staged.known[x.id] = final ? .some(nil) : Known(n: n, fence: epoch)
    }

    /// The row of execution `id` if `owner` may write it.
    private mutating func owned(_ id: String, by owner: FencingToken) throws(RunnerError) -> Known {
        let k: Known
        if let staged = staged.known[id], let s = staged {
            k = s
        } else if let cached = known[id] {
            k = cached
        } else {
            let row = try db.using("SELECT n, fence FROM executions WHERE id = ?1") { s throws(RunnerError) in
                try s.bind(id, at: 1)
                return try s.step() ? Known(n: s.int64(at: 0), fence: s.int64(at: 1)) : nil
            }
            guard let row else { throw RunnerError(.notFound, "no execution \(id) in the journal") }
            k = row
        }
        guard k.fence == owner.value else {
            throw RunnerError(.conflict, "execution \(id) is owned by fence \(k.fence); a write with \(owner) is refused")
        }
        return k
    }

    private func insert(_ e: EventRecord, execution n: Int64) throws(RunnerError) {
        try db.run(Self.insertEventSQL, [
            .integer(n), .integer(Int64(e.seq)), .integer(e.at), .text(e.kind), .text(e.address),
            .integer(e.attempt.map(Int64.init)), e.payloadText.map { .textBytes($0) } ?? .null,
        ])
    }

    /// The row of this document, stored now if it is new.
    private mutating func documentNumber(_ body: [UInt8]) throws(RunnerError) -> Int64 {
        let hash = DocumentHash.of(body)
        if let d = staged.documents.first(where: { $0.hash == hash && $0.body == body }) { return d.n }
        if let d = documents[hash]?.first(where: { $0.body == body }) { return d.n }
        let stored = try db.using("SELECT n, body FROM documents WHERE hash = ?1") { s throws(RunnerError) -> Int64? in
            try s.bind(hash, at: 1)
            while try s.step() { if s.blob(at: 1) == body { return s.int64(at: 0) } }
            return nil
        }
        let n: Int64
        if let stored {
            n = stored
        } else {
            try db.run("INSERT INTO documents (hash, body) VALUES (?1, ?2)", [.integer(hash), .blob(body)])
            n = db.lastInsertRowID
        }
        staged.documents.append((hash, n, body))
        return n
    }

    static let insertExecutionSQL = """
        INSERT INTO executions (id, intent, state, document, created_at, started_at, finished_at, error,
            idempotency_key, fence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """
    static let insertEventSQL = """
        INSERT INTO events (execution, seq, at, kind, address, attempt, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        """
    static let updateSummarySQL = """
        UPDATE executions SET state = ?2, started_at = COALESCE(?3, started_at),
            finished_at = COALESCE(?4, finished_at), error = COALESCE(?5, error) WHERE n = ?1
        """
}
