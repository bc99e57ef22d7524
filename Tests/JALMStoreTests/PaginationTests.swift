import JALMCore
@testable import JALMStore
import Testing

@Suite struct PaginationTests {
    /// 53 executions, a third of them completed.
    private func fill(_ journal: SQLiteJournal) async throws -> [String] {
        let ids = (0..<53).map { "ex_\(String($0, radix: 16))" }
        let writes = ids.enumerated().map { i, id in create(id, state: i % 3 == 0 ? "completed" : "running") }
        #expect(await journal.commit(writes) == nil)
        return ids
    }

    private func allPages(_ journal: SQLiteJournal, state: String?, limit: Int) throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let page = try journal.list(state: state, limit: limit, cursor: cursor)
            pages.append(page.items.map(\.id))
            cursor = page.nextCursor
        } while cursor != nil
        return pages
    }

    @Test func cursorsReturnEveryRowExactlyOnceNewestFirst() async throws {
        try await withJournal { journal, _ throws in
            let ids = try await fill(journal)
            let pages = try allPages(journal, state: nil, limit: 10)
            #expect(pages.map(\.count) == [10, 10, 10, 10, 10, 3])
            #expect(pages.flatMap { $0 } == ids.reversed())
        }
    }

    @Test func rowsAddedMeanwhileNeitherShiftNorRepeatAPage() async throws {
        try await withJournal { journal, _ throws in
            let ids = try await fill(journal)
            let first = try journal.list(state: nil, limit: 10, cursor: nil)
            #expect(await journal.commit([create("ex_new")]) == nil)
            let second = try journal.list(state: nil, limit: 10, cursor: first.nextCursor)
            #expect(second.items.map(\.id) == Array(ids.reversed()[10..<20]))
        }
    }

    @Test func lastFullPageHasNoNextCursor() async throws {
        try await withJournal { journal, _ throws in
            #expect(await journal.commit((0..<20).map { create("ex_\($0)") }) == nil)
            #expect(try allPages(journal, state: nil, limit: 10).map(\.count) == [10, 10])
        }
    }

    @Test func stateFilterPaginatesOnlyThatState() async throws {
        try await withJournal { journal, _ throws in
            _ = try await fill(journal)
            let listed = try allPages(journal, state: "completed", limit: 4).flatMap { $0 }
            #expect(listed.count == 18)
            #expect(Set(listed).count == 18)
            #expect(try listed.allSatisfy { try journal.execution(id: $0)?.summary.state == "completed" })
        }
    }

    @Test(arguments: ["garbage", "0", "-3", "1:ex_1"])
    func malformedCursorIsInvalidInput(cursor: String) async throws {
        try await withJournal { journal, _ throws in
            let error = #expect(throws: RunnerError.self) { try journal.list(state: nil, limit: 10, cursor: cursor) }
            #expect(error?.code == .invalidInput)
            #expect(error?.pointer == "/cursor")
        }
    }
}
