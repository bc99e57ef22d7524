import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// `foreach: {items_from: {step, page}}`: a loop over the pages of a read, one fetch per page, each
/// iteration's item a page, and every ended iteration let go of.
@Suite struct PagedForeachTests {
    static let ok = Receipt(pid: 1, version: "t")

    static func rows(_ ids: ClosedRange<Int>) -> StepOutcome {
        .ok(["rows": .array(ids.map { ["id": .int(Int64($0)), "v": .string("r\($0)")] })], ok)
    }
    static let empty = StepOutcome.ok(["rows": []], ok)

    /// A source query, a paged foreach of `page`, a write per page.
    static func plan(page: Int = 2, concurrency: Int = 1, extra: [JSONValue] = []) -> Plan {
        Fixtures.plan(steps: [
            ["id": "src", "layer": "io-db", "op": "query",
             "input": ["sql": "SELECT id, v FROM t WHERE id > :after ORDER BY id LIMIT :limit", "params": ["after": 0]]],
            ["id": "each", "foreach": ["items_from": ["step": "src", "page": .int(Int64(page))]], "as": "rows",
             "concurrency": .int(Int64(concurrency)),
             "steps": [["id": "w", "op": "write", "input": ["n": "{{ len(rows) }}", "first": "{{ rows[0].id }}"]]]],
        ] + extra)
    }


    @Test func pagesAreFetchedFromWhereTheLastEndedUntilAShortOne() throws {
        let p = Self.plan()
        let sim = Simulator(plan: p, script: ["src": [Self.rows(1...2)], "each[1].each:page": [Self.rows(3...4)],
                                              "each[2].each:page": [Self.rows(5...5)]])
        let t = sim.run()
        #expect(t.finished?.0 == .completed)
        // The next page is fetched as soon as every page held has started: ahead of the iteration's write.
        #expect(addresses(t, p) == ["src", "each[1].each:page", "each[0].w", "each[2].each:page", "each[1].w", "each[2].w"])
        #expect(t.machine?.outputs["each"] == ["pages": 3, "items": 5])
        let calls = Dictionary(sim.callsMade(), uniquingKeysWith: { a, _ in a })
        #expect(calls["src"]?.inputPatch == ["params": ["limit": 2]], "the first page keeps the source's own after")
        #expect(calls["each[1].each:page"]?.inputPatch == ["params": ["after": 2, "limit": 2]])
        #expect(calls["each[2].each:page"]?.inputPatch == ["params": ["after": 4, "limit": 2]])
        #expect(calls["each[1].w"]?.locals["rows"] == [["id": 3, "v": "r3"], ["id": 4, "v": "r4"]])
        #expect(calls["each[1].w"]?.locals["index"] == 1)
    }

    @Test func aFullLastPageEndsWithAnEmptyFetch() throws {
        let p = Self.plan()
        let t = Simulator(plan: p, script: ["src": [Self.rows(1...2)], "each[1].each:page": [Self.empty]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["each"] == ["pages": 1, "items": 2])
    }

    @Test func anEmptySourceRunsNoIteration() throws {
        let p = Self.plan()
        let t = Simulator(plan: p, script: ["src": [Self.empty]]).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p) == ["src"])
        #expect(t.machine?.outputs["each"] == ["pages": 0, "items": 0])
    }

    @Test func aSkippedSourceGivesAnEmptyLoop() throws {
        let p = Fixtures.plan(steps: [
            ["id": "src", "layer": "io-db", "op": "query", "when": "$.vars.run == true",
             "input": ["sql": "SELECT id FROM t WHERE id > :after ORDER BY id LIMIT :limit", "params": ["after": 0]]],
            ["id": "each", "foreach": ["items_from": ["step": "src", "page": 2]], "steps": [["id": "w", "op": "write"]]],
        ], vars: ["run": false])
        let t = Simulator(plan: p).run()
        #expect(t.finished?.0 == .completed)
        #expect(addresses(t, p).isEmpty)
        #expect(t.machine?.outputs["each"] == ["pages": 0, "items": 0])
    }

    @Test func endedIterationsAreLetGoOfSoTheStateStaysSmall() throws {
        let p = Self.plan(page: 5, concurrency: 4)
        var script: [String: [StepOutcome]] = ["src": [Self.rows(1...5)]]
        for k in 1..<200 { script["each[\(k)].each:page"] = [Self.rows((5 * k + 1)...(5 * k + 5))] }
        script["each[200].each:page"] = [Self.rows(1001...1003)]
        let t = Simulator(plan: p, script: script).run()
        #expect(t.finished?.0 == .completed)
        #expect(t.machine?.outputs["each"] == ["pages": 201, "items": 1003])
        let state = try #require(t.machine?.state)
        #expect(state.looped.isEmpty, "\(state.looped.count) runs kept")
        let block = try #require(state.blocks[StepRef(node: p.index(of: "each")!)])
        #expect(block.items.allSatisfy { $0 == .null } && block.pruned.count == 201)
        // The same fold from the journal lets go of them too.
        var folded = ExecutionMachine(id: Fixtures.id, plan: p)
        folded.fold(t.journal)
        #expect(folded.state.looped.isEmpty && folded.state == state)
        // The view lists what is held: here, the loop's step only.
        let view = ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!)
        #expect(view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["src", "each"])
    }

    @Test func theHeldPagesAreBoundedByConcurrency() throws {
        let p = Self.plan(page: 1, concurrency: 3)
        var machine = ExecutionMachine(id: Fixtures.id, plan: p)
        var commands = machine.handle(.start(acknowledge: false, at: 1))
        var out = commands.dispatches
        var n = 0
        // Answer every fetch with a full page and never end an iteration: the loop stops asking for pages
        // once `concurrency` iterations hold one.
        while let call = out.first {
            out.removeFirst()
            guard call.step.node != p.index(of: "w") else { continue }
            n += 1
            commands = machine.handle(.stepReturned(step: call.step, attempt: 1, outcome: Self.rows(n...n), jitter: 0, at: 2))
            out += commands.dispatches
        }
        let block = try #require(machine.state.blocks[StepRef(node: p.index(of: "each")!)])
        #expect(block.launched == 3 && block.items.count == 4, "three running and one fetched ahead, no more")
    }

    @Test func aFetchThatFailsFailsTheLoopWithItsError() throws {
        let p = Self.plan()
        let t = Simulator(plan: p, script: ["src": [Self.rows(1...2)],
                                            "each[1].each:page": [.failed(RunnerError(.upstreamError, "db gone", retryable: false), Receipt())]]).run()
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.message.hasPrefix("step each[1].each:page (io-db.query) failed: db gone") == true,
                "\(String(describing: t.finished?.1))")
    }

    @Test func rowsWithoutTheKeyFailTheLoopClearly() throws {
        let p = Self.plan()
        let t = Simulator(plan: p, script: ["src": [.ok(["rows": [["x": 1], ["x": 2]]], Self.ok)]]).run()
        #expect(t.finished?.0 == .failed)
        #expect(t.finished?.1?.message == "each cannot fetch its next page: its last row has no \"id\" (items_from key)")
        #expect(t.finished?.1?.pointer == "/steps/1/foreach/items_from")
    }

    @Test func theJournalRecordsOfAPagedLoopReadBack() throws {
        let p = Self.plan()
        let t = Simulator(plan: p, script: ["src": [Self.rows(1...2)], "each[1].each:page": [Self.rows(3...3)]]).run()
        for entry in t.journal { #expect(try JournalEntry(record: entry.record(plan: p), plan: p) == entry) }
    }

    /// The refusal of a capsule at submission: its pointer and message.
    static func refusal(_ steps: [JSONValue]) -> RunnerError? {
        do {
            let capsule = try CapsuleParser.parse(["steps": .array(steps)])
            try CapsuleValidator(catalog: Fixtures.catalog, announcedOps: Set(Fixtures.catalog.cards.map(\.qualifiedName)))
                .validate(capsule)
            return nil
        } catch {
            return error
        }
    }

    static let source: JSONValue = ["id": "src", "layer": "io-db", "op": "query",
                                    "input": ["sql": "SELECT * FROM t WHERE id > :after ORDER BY id LIMIT :limit", "params": ["after": 0]]]
    static func loop(_ from: JSONValue, body: [JSONValue] = [["id": "w", "layer": "t", "op": "write"]], id: String = "each") -> JSONValue {
        ["id": .string(id), "foreach": ["items_from": from], "steps": .array(body)]
    }

    @Test func whatCannotBePagedIsRefusedAtItsPlace() throws {
        let cases: [(steps: [JSONValue], pointer: String, text: String)] = [
            ([Self.loop(["step": "src", "page": 10]), Self.source], "/steps/0/foreach/items_from/step", "does not run before"),
            ([["id": "src", "layer": "t", "op": "read"], Self.loop(["step": "src", "page": 10])],
             "/steps/1/foreach/items_from/step", "step \"src\" is t.read"),
            ([["id": "src", "layer": "io-db", "op": "query", "input": ["sql": "SELECT 1"]], Self.loop(["step": "src", "page": 10])],
             "/steps/0/input/params", "params: {after: 0}"),
            ([["id": "src", "layer": "io-db", "op": "query", "input": ["sql": "SELECT * FROM t", "params": ["after": 0]]],
              Self.loop(["step": "src", "page": 10])], "/steps/0/input/sql", "must read :after and :limit"),
            ([Self.source, Self.loop(["step": "src", "page": 0])], "/steps/1/foreach/items_from/page", "from 1 to 10000"),
            ([Self.source, Self.loop(["step": "src", "page": 10001])], "/steps/1/foreach/items_from/page", "from 1 to 10000"),
            ([Self.source, Self.loop(["step": "src", "page": 5, "by": "id"])], "/steps/1/foreach/items_from/by", "unknown items_from key"),
            ([Self.source, Self.loop(["step": "src", "page": 5]), Self.loop(["step": "src", "page": 5], body: [["id": "w2", "layer": "t", "op": "write"]], id: "again")],
             "/steps/1/foreach/items_from/step", "the items_from of two foreach steps"),
            ([Self.source, Self.loop(["step": "src", "page": 5], body: [["id": "w", "layer": "t", "op": "write",
                                                                         "compensate": ["layer": "t", "op": "write"]]])],
             "/steps/1/steps/0/compensate", "cannot compensate"),
        ]
        for c in cases {
            let error = Self.refusal(c.steps)
            #expect(error?.pointer == c.pointer, "\(c.text): \(String(describing: error))")
            #expect(error?.message.contains(c.text) == true, "\(String(describing: error))")
        }
        #expect(Self.refusal([Self.source, Self.loop(["step": "src", "page": 10000])]) == nil, "10,000 rows a page is allowed")
        var collect = Self.loop(["step": "src", "page": 5]).objectValue!
        collect["collect"] = "w"
        #expect(Self.refusal([Self.source, .object(collect)])?.pointer == "/steps/1/collect")
    }
}
