import JALMCore
@testable import JALMStore
import JALMWire
import Testing

@Suite struct JournalTests {
    @Test func theSummaryChangesInTheSameTransactionAsItsEvents() async throws {
        try await withJournal { journal, _ throws in
            #expect(await journal.commit([create("ex_1")]) == nil)
            let end = ExecutionSummary(state: "failed", finishedAt: 9, error: ["code": "internal", "message": "m"])
            #expect(await journal.commit([.append(executionID: "ex_1", owner: journal.owner,
                                                  events: [EventRecord(seq: 2, at: 9, kind: "finished")],
                                                  summary: end)]) == nil)
            let x = try #require(try journal.execution(id: "ex_1"))
            #expect(x.summary.state == "failed")
            #expect(x.summary.finishedAt == 9)
            #expect(x.summary.startedAt == 1_700_000_000_000, "a nil time keeps the stored one")
            #expect(x.summary.error?["code"] == "internal")
        }
    }

    @Test func aWriteWithAStaleFenceIsRefused() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try SQLiteJournal(path: dir.database)
        #expect(await first.commit([create("ex_1"), create("ex_done", state: "completed")]) == nil)
        let staleOwner = first.owner
        first.close()
        // The next owner opens the journal: a new epoch, and the unfinished execution is fenced with it.
        let second = try SQLiteJournal(path: dir.database)
        defer { second.close() }
        #expect(second.owner.value == staleOwner.value + 1)
        let claimed = try second.claimUnfinished()
        #expect(claimed.map(\.id) == ["ex_1"])
        #expect(claimed.first?.owner == second.owner)
        let refused = await second.commit([.append(executionID: "ex_1", owner: staleOwner, events: [stepEvent(2)],
                                                   summary: nil)])
        #expect(refused?.code == .conflict)
        #expect(await second.commit([.append(executionID: "ex_1", owner: second.owner, events: [stepEvent(2)],
                                             summary: nil)]) == nil)
        #expect(try second.execution(id: "ex_1")?.events.count == 2)
    }

    @Test func anIdempotencyKeyIsUniqueWithinItsWindowAndFreeAfter() async throws {
        try await withJournal { journal, _ throws in
            #expect(await journal.commit([create("ex_1", createdAt: 1000, key: "k")]) == nil)
            let found = try journal.submission(idempotencyKey: "k", notBefore: 0)
            #expect(found?.executionID == "ex_1")
            #expect(found?.document == capsuleDocument)
            #expect(try journal.submission(idempotencyKey: "k", notBefore: 1001) == nil, "outside the window")
            let taken = await journal.commit([create("ex_2", createdAt: 2000, key: "k", keyWindowStart: 500)])
            #expect(taken?.code == .conflict)
            #expect(taken?.details?["execution_id"] == "ex_1")
            // Past the window, a new execution takes the key over.
            #expect(await journal.commit([create("ex_3", createdAt: 3000, key: "k", keyWindowStart: 1500)]) == nil)
            #expect(try journal.submission(idempotencyKey: "k", notBefore: 0)?.executionID == "ex_3")
            #expect(try journal.execution(id: "ex_1")?.idempotencyKey == nil)
        }
    }

    @Test func aDocumentIsStoredOnceAndReadBackForEachExecution() async throws {
        try await withJournal { journal, dir throws in
            let other = Array(#"{"intent":"y","steps":[]}"#.utf8)
            var writes: [JournalWrite] = (0..<20).map { create("ex_\($0)") }
            writes.append(create("ex_other", document: other))
            #expect(await journal.commit(writes) == nil)
            #expect(await journal.commit([create("ex_later")]) == nil)
            let db = try SQLiteConnection(path: dir.database)
            defer { db.close() }
            let count = try db.withStatement("SELECT count(*) FROM documents") { s in _ = try s.step(); return s.int64(at: 0) }
            #expect(count == 2)
            #expect(try journal.execution(id: "ex_other")?.document == other)
            #expect(try journal.execution(id: "ex_later")?.document == capsuleDocument)
        }
    }

    @Test func aDocumentWrittenInARolledBackBatchIsNotReused() async throws {
        try await withJournal { journal, _ throws in
            let doc = Array(#"{"intent":"rolled back","steps":[]}"#.utf8)
            // One batch: a create with a new document, and a bad entry that forces the slow path.
            async let a = journal.commit([create("ex_a", document: doc), create("ex_a")])
            #expect(await a?.code != nil, "a duplicate id fails the entry")
            #expect(await journal.commit([create("ex_b", document: doc)]) == nil)
            #expect(try journal.execution(id: "ex_b")?.document == doc)
        }
    }

    @Test func theStepRunsViewSpellsOutTheEvents() async throws {
        try await withJournal { journal, dir throws in
            let failed: JSONValue = ["s": "timed_out", "ms": 5, "e": ["code": "timeout", "message": "slow", "retryable": true],
                                     "r": 1_700_000_000_100, "p": 42, "v": "1.0"]
            #expect(await journal.commit([create("ex_1"), .append(executionID: "ex_1", owner: journal.owner, events: [
                stepEvent(2, kind: "step.failed", payload: failed),
                EventRecord(seq: 3, at: 1_700_000_000_200, kind: "step.ok", address: "s", attempt: 2,
                            payload: ["o": ["n": 2], "ms": 7, "p": 43, "v": "1.0"]),
            ], summary: nil)]) == nil)
            let db = try SQLiteConnection(path: dir.database)
            defer { db.close() }
            let rows = try db.withStatement("""
                SELECT step_id, attempt, state, finished_at - dispatched_at, layer_pid, output, error
                FROM step_runs WHERE execution_id = 'ex_1' ORDER BY attempt
                """) { s in
                var out: [[String]] = []
                while try s.step() {
                    // JSON columns compared as values: the writer does not sort keys.
                    out.append((0..<7).map { i in
                        let text = s.string(at: i) ?? "-"
                        return i >= 5 ? (try? JSONParser.parse(text)).map { JSONWriter.string($0, sortedKeys: true) } ?? text : text
                    })
                }
                return out
            }
            #expect(rows == [
                ["s", "1", "timed_out", "5", "42", "-", #"{"code":"timeout","message":"slow","retryable":true}"#],
                ["s", "2", "ok", "7", "43", #"{"n":2}"#, "-"],
            ])
        }
    }
}
