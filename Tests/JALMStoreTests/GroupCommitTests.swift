import JALMCore
@testable import JALMStore
import JALMWire
import Synchronization
import Testing

@Suite struct GroupCommitTests {
    @Test func concurrentDurableWritesShareTransactions() async throws {
        // synchronous=FULL, as in production: at a few hundred fsyncs/s, 2,000 unbatched commits take seconds.
        try await withJournal(synchronous: .full) { journal, _ throws in
            let failures = await withTaskGroup(of: RunnerError?.self) { group in
                for i in 0..<2_000 { group.addTask { await journal.commit([create("ex_\(i)")]) } }
                return await group.reduce(into: 0) { $0 += $1 == nil ? 0 : 1 }
            }
            #expect(failures == 0)
            #expect(try journal.countExecutions() == 2_000)
            #expect(journal.stats.writes == 2_000)
            #expect(journal.stats.transactions < 2_000 / 4)
        }
    }

    @Test func committedWritesSurviveReopenWithTheirEventsInOrder() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try SQLiteJournal(path: dir.database, synchronous: .full)
        #expect(await first.commit([create("ex_1")]) == nil)
        #expect(await first.commit([.append(executionID: "ex_1", owner: first.owner,
                                            events: [stepEvent(2), stepEvent(3, step: "t")], summary: nil)]) == nil)
        first.close()
        let second = try SQLiteJournal(path: dir.database)
        defer { second.close() }
        let x = try #require(try second.execution(id: "ex_1"))
        #expect(x.events.map(\.seq) == [1, 2, 3])
        #expect(x.events[1] == stepEvent(2))
        #expect(x.document == capsuleDocument)
    }

    @Test func aGroupWriteIsDurableWithTheNextDurableOne() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try SQLiteJournal(path: dir.database, synchronous: .full)
        defer { first.close() }
        first.write(create("ex_early"), durability: .group)
        #expect(await first.commit([create("ex_1")]) == nil)
        // A second journal on the same file, the first still open: it sees only committed data.
        let second = try SQLiteJournal(path: dir.database)
        defer { second.close() }
        #expect(try second.execution(id: "ex_early") != nil, "FIFO: an earlier group write is durable too")
    }

    @Test func aFailingEntryFailsAloneWhileTheRestOfTheBatchCommits() async throws {
        try await withJournal { journal, _ throws in
            #expect(await journal.commit([create("ex_1")]) == nil)
            let results = await withTaskGroup(of: (Int, RunnerError?).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        // Entry 25 writes to an execution that does not exist: it fails, the others land.
                        let id = i == 25 ? "ex_none" : "ex_1"
                        let e = await journal.commit([.append(executionID: id, owner: journal.owner,
                                                              events: [stepEvent(i + 2)], summary: nil)])
                        return (i, e)
                    }
                }
                return await group.reduce(into: [Int: RunnerError?]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.filter { $0.value != nil }.map(\.key) == [25])
            #expect(results[25]??.code == .notFound)
            #expect(try journal.execution(id: "ex_1")?.events.count == 50)
            #expect(journal.stats.failedWrites == 1)
        }
    }

    @Test func aGroupWriteAloneCommitsAfterTheGroupDelay() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.database, groupDelay: .milliseconds(50))
        defer { journal.close() }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await journal.commit([create("ex_1")], .group) == nil)
        let waited = clock.now - start
        #expect(waited >= .milliseconds(40), "it waited for company: \(waited)")
        #expect(waited < .seconds(5))
        #expect(try journal.execution(id: "ex_1") != nil)
    }

    @Test func closeDrainsQueuedWrites() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try SQLiteJournal(path: dir.database)
        for i in 0..<500 { first.write(create("ex_\(i)"), durability: .group) }
        first.close()
        first.close()
        let second = try SQLiteJournal(path: dir.database)
        defer { second.close() }
        #expect(try second.countExecutions() == 500)
    }

    @Test func writesAfterCloseFailAndReadsThrow() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let journal = try SQLiteJournal(path: dir.database)
        journal.close()
        #expect(await journal.commit([create("ex_1")])?.code == .internal)
        journal.write(create("ex_2"), durability: .group)
        #expect(journal.stats.failedWrites == 2)
        #expect(throws: RunnerError.self) { try journal.countExecutions() }
        await #expect(throws: RunnerError.self) { try await journal.flush() }
    }
}
