import JALMCore
import JALMWire

/// How soon a journal write must reach the disk.
public enum Durability: Sendable, Hashable {
    /// fsynced before its completion runs: accepting a submission, the dispatch of a step that must not run
    /// twice, the end of an execution that someone is told about.
    case durable
    /// Committed with the next group, without anyone waiting for it: a crash before that loses only what
    /// recovery redoes anyway (a repeatable step's output, for example).
    case group
}

/// Who may write an execution's history. Every write of an execution carries the token its owner got when
/// it created or claimed the execution; the journal refuses a write whose token is no longer the
/// execution's (a node that paused and came back after another took over). On SQLite there is one owner at
/// a time, and the token is the epoch of the jalmd that opened the journal.
public struct FencingToken: Sendable, Hashable, CustomStringConvertible {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public var description: String { "fence \(value)" }
}

/// A new execution: its row, its capsule document, and its first events.
public struct NewExecution: Sendable, Hashable {
    public var id: String
    public var intent: String
    /// The capsule as submitted. Identical documents are stored once.
    public var document: [UInt8]
    public var createdAt: Int64
    /// The client's `Idempotency-Key`, unique among executions created since `keyWindowStart`.
    public var idempotencyKey: String?
    /// An older execution holding the same key lets go of it (its retention window has passed).
    public var keyWindowStart: Int64

    public init(id: String, intent: String, document: [UInt8], createdAt: Int64, idempotencyKey: String? = nil,
                keyWindowStart: Int64 = 0) {
        self.id = id
        self.intent = intent
        self.document = document
        self.createdAt = createdAt
        self.idempotencyKey = idempotencyKey
        self.keyWindowStart = keyWindowStart
    }
}

/// The state of an execution as the `executions` table shows it: a view of its events, kept in the same
/// transaction as the events that change it.
public struct ExecutionSummary: Sendable, Hashable {
    public var state: String
    public var startedAt: Int64?
    public var finishedAt: Int64?
    public var error: JSONValue?

    public init(state: String, startedAt: Int64? = nil, finishedAt: Int64? = nil, error: JSONValue? = nil) {
        self.state = state
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
    }
}

/// One change to the journal.
public enum JournalWrite: Sendable, Hashable {
    /// A new execution with its first events. Fails with `conflict` when its idempotency key is taken.
    case create(NewExecution, events: [EventRecord], summary: ExecutionSummary)
    /// Events appended to an execution's history, and its summary when it changed. Fails with `conflict`
    /// when `owner` is not the execution's token any more.
    case append(executionID: String, owner: FencingToken, events: [EventRecord], summary: ExecutionSummary?)
}

/// An execution as the journal holds it: its row, its document and (when asked) its history.
public struct StoredExecution: Sendable, Hashable {
    public var id: String
    public var intent: String
    public var summary: ExecutionSummary
    public var createdAt: Int64
    public var idempotencyKey: String?
    public var document: [UInt8]
    public var events: [EventRecord]
    /// The token to write it with (after `claimUnfinished`, this journal's own).
    public var owner: FencingToken

    public init(id: String, intent: String, summary: ExecutionSummary, createdAt: Int64, idempotencyKey: String?,
                document: [UInt8], events: [EventRecord], owner: FencingToken) {
        self.id = id
        self.intent = intent
        self.summary = summary
        self.createdAt = createdAt
        self.idempotencyKey = idempotencyKey
        self.document = document
        self.events = events
        self.owner = owner
    }
}

/// One row of `GET /exec`.
public struct ExecutionListItem: Sendable, Hashable {
    public var id: String
    public var intent: String
    public var state: String
    public var createdAt: Int64
    public var finishedAt: Int64?

    public init(id: String, intent: String, state: String, createdAt: Int64, finishedAt: Int64?) {
        self.id = id
        self.intent = intent
        self.state = state
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// A page of executions, newest first, and where the next page starts (opaque).
public struct ExecutionPage: Sendable, Hashable {
    public var items: [ExecutionListItem]
    public var nextCursor: String?

    public init(items: [ExecutionListItem], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A submission found by its idempotency key.
public struct KeyedSubmission: Sendable, Hashable {
    public var executionID: String
    public var document: [UInt8]
    public var createdAt: Int64

    public init(executionID: String, document: [UInt8], createdAt: Int64) {
        self.executionID = executionID
        self.document = document
        self.createdAt = createdAt
    }
}

/// The journal of executions: the engine's only memory that survives a restart. Designed for two
/// implementations: SQLite (one node, the embedded default) and PostgreSQL (several nodes sharing one
/// database, each claiming executions and fencing its writes).
///
/// **Ordering:** writes are applied in the order `write` was called, each call's writes all-or-nothing.
/// When a durable write's completion runs, it and every write made before it are on disk.
public protocol Journal: Sendable {
    /// The token this journal writes the executions it created or claimed with.
    var owner: FencingToken { get }

    /// Queues `writes` and returns at once. `completion` runs (on the journal's own thread; keep it short)
    /// once they are committed — for `.durable`, fsynced — or with the error that refused them.
    func write(_ writes: [JournalWrite], durability: Durability,
               completion: (@Sendable (RunnerError?) -> Void)?)

    /// Returns when everything written before the call is durable.
    func flush() async throws(RunnerError)

    /// Takes ownership of every execution that has not ended and returns them with their histories.
    func claimUnfinished() throws(RunnerError) -> [StoredExecution]

    /// One execution with its history, or nil.
    func execution(id: String) throws(RunnerError) -> StoredExecution?

    /// Executions newest first, optionally in one state, after `cursor`.
    func list(state: String?, limit: Int, cursor: String?) throws(RunnerError) -> ExecutionPage

    /// The execution submitted with `key` at or after `notBefore`, if any.
    func submission(idempotencyKey key: String, notBefore: Int64) throws(RunnerError) -> KeyedSubmission?
}

extension Journal {
    /// `write` of one change.
    public func write(_ write: JournalWrite, durability: Durability,
                      completion: (@Sendable (RunnerError?) -> Void)? = nil) {
        self.write([write], durability: durability, completion: completion)
    }
}
