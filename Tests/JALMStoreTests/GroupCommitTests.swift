import JALMCore
@testable import JALMStore
import JALMWire
import Testing

@Suite struct GroupCommitTests {
    @Test func concurrentCommitsShareTransactions() async throws {
        // synchronous=FULL, as in production: at ~470 fsyncs/s, 2,000 unbatched commits would take seconds.
        try await withStore(synchronous: .full) { store, _ in
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<2_000 {
                    group.addTask { try await store.commit([.insertExecution(execution("ex_\(i)"))]) }
                }
                try await group.waitForAll()
            }
            let elapsed = clock.now - start
            let stats = store.stats
            print("2,000 commits: \(stats.transactions) transactions in \(elapsed)")
            #expect(try store.countExecutions(state: nil) == 2_000)
            #expect(stats.writes == 2_000)
            #expect(stats.transactions < 2_000 / 4)
        }
    }

    @Test func committedWritesSurviveReopen() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try Store(path: dir.database, synchronous: .full)
        try await first.commit([.insertExecution(execution("ex_1")), .upsertStepRun(stepRun("ex_1"))])
        first.close()
        let second = try Store(path: dir.database)
        defer { second.close() }
        #expect(try second.execution(id: "ex_1") != nil)
        #expect(try second.stepRuns(executionID: "ex_1").count == 1)
    }

    @Test func committedWritesAreVisibleToAnotherStoreWhileTheFirstIsOpen() async throws {
        // Stands in for a crash test: nothing of the first store is closed or flushed when the second reads.
        let dir = TempDir()
        defer { dir.remove() }
        let first = try Store(path: dir.database, synchronous: .full)
        defer { first.close() }
        first.submit([.insertExecution(execution("ex_early"))])
        try await first.commit([.insertExecution(execution("ex_1"))])
        let second = try Store(path: dir.database)
        defer { second.close() }
        #expect(try second.execution(id: "ex_1") != nil)
        #expect(try second.execution(id: "ex_early") != nil, "FIFO: an earlier submit is durable too")
    }

    @Test func failingEntryFailsAloneWhileTheRestOfTheBatchCommits() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.database)
        try Migrations.apply(to: db)
        let batch = [
            PendingWrite(writes: [.insertExecution(execution("ex_1"))], waiter: nil),
            PendingWrite(writes: [.layerEvent(LayerEventRecord(at: 1, layer: "l", event: "e", detail: nil)),
                                  .upsertStepRun(stepRun("ex_none"))], waiter: nil),
            PendingWrite(writes: [.upsertStepRun(stepRun("ex_1"))], waiter: nil),
        ]
        let failures = try GroupCommitter.apply(batch, on: db).get()
        #expect(failures[0] == nil)
        #expect(failures[1]?.message.contains("FOREIGN KEY") == true)
        #expect(failures[2] == nil)
        let counts = try ["executions", "step_runs", "layer_events"].map { table in
            try db.withStatement("SELECT count(*) FROM \(table)") { s in _ = try s.step(); return s.int64(at: 0) }
        }
        #expect(counts == [1, 1, 0], "the failed entry is rolled back whole, its layer event too")
    }

    @Test func failingCommitThrowsWhileConcurrentCommitsLand() async throws {
        try await withStore { store, _ in
            try await store.commit([.insertExecution(execution("ex_1"))])
            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let write: StoreWrite = i == 25
                            ? .upsertStepRun(stepRun("ex_none"))
                            : .upsertStepRun(stepRun("ex_1", index: i))
                        do { try await store.commit([write]); return (i, true) } catch { return (i, false) }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.filter { !$0.value }.map(\.key) == [25])
            #expect(try store.stepRuns(executionID: "ex_1").count == 49)
            #expect(store.stats.failedWrites == 1)
        }
    }

    @Test func closeDrainsQueuedWrites() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let first = try Store(path: dir.database)
        for i in 0..<500 { first.submit([.insertExecution(execution("ex_\(i)"))]) }
        first.close()
        first.close()
        let second = try Store(path: dir.database)
        defer { second.close() }
        #expect(try second.countExecutions(state: nil) == 500)
    }

    @Test func flushWaitsForEarlierSubmits() async throws {
        try await withStore { store, _ in
            for i in 0..<100 { store.submit([.insertExecution(execution("ex_\(i)"))]) }
            try await store.flush()
            #expect(try store.countExecutions(state: nil) == 100)
        }
    }

    @Test func writesAfterCloseFailAndReadsThrow() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try Store(path: dir.database)
        store.close()
        await #expect(throws: RunnerError.self) { try await store.commit([.insertExecution(execution("ex_1"))]) }
        store.submit([.insertExecution(execution("ex_2"))])
        #expect(store.stats.failedWrites == 2)
        #expect(throws: RunnerError.self) { try store.countExecutions(state: nil) }
    }
}
