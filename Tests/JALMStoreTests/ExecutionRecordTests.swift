import JALMCore
import JALMStore
import JALMWire
import Testing

@Suite struct ExecutionRecordTests {
    @Test func insertedExecutionReadsBackEqual() async throws {
        try await withStore { store, _ in
            var record = execution("ex_1")
            record.priority = 7
            record.error = ["code": "internal"]
            try await store.commit([.insertExecution(record)])
            #expect(try store.execution(id: "ex_1") == record)
            #expect(try store.execution(id: "ex_missing") == nil)
        }
    }

    @Test func updateLeavesNilFieldsUnchanged() async throws {
        try await withStore { store, _ in
            try await store.commit([
                .insertExecution(execution("ex_1")),
                .updateExecution(id: "ex_1", state: "running", startedAt: 10, finishedAt: nil, error: nil),
            ])
            try await store.commit([
                .updateExecution(id: "ex_1", state: "failed", startedAt: nil, finishedAt: 20,
                                 error: ["code": "timeout"]),
            ])
            let read = try #require(try store.execution(id: "ex_1"))
            #expect(read.state == "failed")
            #expect(read.startedAt == 10)
            #expect(read.finishedAt == 20)
            #expect(read.error == ["code": "timeout"])
        }
    }

    @Test func updateOfAMissingExecutionFailsWithNotFound() async throws {
        try await withStore { store, _ in
            let error = await #expect(throws: RunnerError.self) {
                try await store.commit([.updateExecution(id: "ex_none", state: "running", startedAt: nil,
                                                         finishedAt: nil, error: nil)])
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func duplicateExecutionIdIsRefused() async throws {
        try await withStore { store, _ in
            try await store.commit([.insertExecution(execution("ex_1"))])
            await #expect(throws: RunnerError.self) { try await store.commit([.insertExecution(execution("ex_1"))]) }
        }
    }

    @Test func unfinishedExecutionsArePendingOrRunningOldestFirst() async throws {
        try await withStore { store, _ in
            try await store.commit([
                .insertExecution(execution("ex_c", state: "running", createdAt: 3)),
                .insertExecution(execution("ex_a", state: "pending", createdAt: 1)),
                .insertExecution(execution("ex_b", state: "completed", createdAt: 2)),
                .insertExecution(execution("ex_d", state: "failed", createdAt: 0)),
            ])
            #expect(try store.unfinishedExecutions().map(\.id) == ["ex_a", "ex_c"])
        }
    }

    @Test func countExecutionsByState() async throws {
        try await withStore { store, _ in
            try await store.commit([
                .insertExecution(execution("ex_a", state: "running")),
                .insertExecution(execution("ex_b", state: "running")),
                .insertExecution(execution("ex_c", state: "completed")),
            ])
            #expect(try store.countExecutions(state: nil) == 3)
            #expect(try store.countExecutions(state: "running") == 2)
            #expect(try store.countExecutions(state: "cancelled") == 0)
        }
    }

    @Test func layerEventsNewestFirstAndByLayer() async throws {
        try await withStore { store, _ in
            try await store.commit([
                .layerEvent(LayerEventRecord(at: 1, layer: "io-http", event: "started", detail: nil)),
                .layerEvent(LayerEventRecord(at: 2, layer: "io-file", event: "restarted", detail: ["pid": 42])),
                .layerEvent(LayerEventRecord(at: 3, layer: "io-http", event: "quarantined", detail: ["why": "crash"])),
            ])
            #expect(try store.layerEvents(layer: nil, limit: 10).map(\.at) == [3, 2, 1])
            #expect(try store.layerEvents(layer: nil, limit: 2).map(\.at) == [3, 2])
            let http = try store.layerEvents(layer: "io-http", limit: 10)
            #expect(http.map(\.event) == ["quarantined", "started"])
            #expect(http.first?.detail == ["why": "crash"])
        }
    }
}
