import Foundation
import JALMCore
@testable import JALMStore
import JALMWire

/// A fresh directory under /tmp for one test's database, removed with everything in it by `remove()`.
struct TempDir {
    let path: String

    init() {
        var template = Array("/tmp/jalm-store-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var database: String { path + "/journal.sqlite" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Opens a journal in a fresh directory, runs `body`, closes it and removes the directory.
func withJournal<R>(synchronous: Synchronous = .normal, _ body: (SQLiteJournal, TempDir) async throws -> R)
    async throws -> R
{
    let dir = TempDir()
    defer { dir.remove() }
    let journal = try SQLiteJournal(path: dir.database, synchronous: synchronous)
    defer { journal.close() }
    return try await body(journal, dir)
}

extension SQLiteJournal {
    /// Writes and waits for the completion: nil, or the error that refused the writes.
    func commit(_ writes: [JournalWrite], _ durability: Durability = .durable) async -> RunnerError? {
        await withCheckedContinuation { c in write(writes, durability: durability) { c.resume(returning: $0) } }
    }
}

let capsuleDocument = Array(#"{"intent":"x","steps":[]}"#.utf8)

/// The creation of execution `id` with a `submitted` event.
func create(_ id: String, state: String = "running", createdAt: Int64 = 1_700_000_000_000, key: String? = nil,
            document: [UInt8] = capsuleDocument, keyWindowStart: Int64 = 0) -> JournalWrite {
    .create(NewExecution(id: id, intent: "intent of \(id)", document: document, createdAt: createdAt,
                         idempotencyKey: key, keyWindowStart: keyWindowStart),
            events: [EventRecord(seq: 1, at: createdAt, kind: "submitted")],
            summary: ExecutionSummary(state: state, startedAt: createdAt))
}

/// Event `seq` of a step.
func stepEvent(_ seq: Int, step: String = "s", kind: String = "step.ok", payload: JSONValue? = ["o": ["n": 1]])
    -> EventRecord
{
    EventRecord(seq: seq, at: 1_700_000_000_000 + Int64(seq), kind: kind, address: step, attempt: 1, payload: payload)
}
