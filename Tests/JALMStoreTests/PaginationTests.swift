import JALMCore
import JALMStore
import Testing

@Suite struct PaginationTests {
    /// 53 executions, several sharing a created_at, so that the id breaks ties.
    private func fill(_ store: Store) async throws -> [String] {
        let records = (0..<53).map { i in
            execution("ex_\(String(i, radix: 16))", state: i % 3 == 0 ? "completed" : "running",
                      createdAt: Int64(i / 4))
        }
        try await store.commit(records.map { .insertExecution($0) })
        return records.map(\.id)
    }

    private func allPages(_ store: Store, state: String?, limit: Int) throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let page = try store.listExecutions(state: state, limit: limit, cursor: cursor)
            pages.append(page.items.map(\.id))
            cursor = page.nextCursor
        } while cursor != nil
        return pages
    }

    @Test func cursorsReturnEveryRowExactlyOnceNewestFirst() async throws {
        try await withStore { store, _ in
            let ids = try await fill(store)
            let pages = try allPages(store, state: nil, limit: 10)
            #expect(pages.map(\.count) == [10, 10, 10, 10, 10, 3])
            let listed = pages.flatMap { $0 }
            #expect(listed.count == ids.count)
            #expect(Set(listed) == Set(ids))
            let records = try listed.map { try #require(try store.execution(id: $0)) }
            let keys = records.map { ($0.createdAt, $0.id) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 > $1 })
        }
    }

    @Test func lastFullPageHasNoNextCursor() async throws {
        try await withStore { store, _ in
            try await store.commit((0..<20).map { .insertExecution(execution("ex_\($0)", createdAt: Int64($0))) })
            let pages = try allPages(store, state: nil, limit: 10)
            #expect(pages.map(\.count) == [10, 10])
        }
    }

    @Test func stateFilterPaginatesOnlyThatState() async throws {
        try await withStore { store, _ in
            _ = try await fill(store)
            let listed = try allPages(store, state: "completed", limit: 4).flatMap { $0 }
            #expect(listed.count == 18)
            #expect(Set(listed).count == 18)
            #expect(try listed.allSatisfy { try store.execution(id: $0)?.state == "completed" })
        }
    }

    @Test func malformedCursorIsInvalidInput() async throws {
        try await withStore { store, _ in
            let error = #expect(throws: RunnerError.self) {
                try store.listExecutions(state: nil, limit: 10, cursor: "garbage")
            }
            #expect(error?.code == .invalidInput)
        }
    }
}
