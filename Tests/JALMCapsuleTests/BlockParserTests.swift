@testable import JALMCapsule
import JALMCore
import JALMWire
import Testing

/// switch, foreach and parallel as written: what is accepted, what is refused and where, what a step
/// inside a block may read.
@Suite struct BlockParserTests {
    static let read: JSONValue = ["id": "r", "layer": "io-file", "op": "read", "input": ["path": "a"]]

    func read(_ id: String, path: JSONValue = "a") -> JSONValue {
        ["id": .string(id), "layer": "io-file", "op": "read", "input": ["path": path]]
    }

    func parse(_ steps: [JSONValue], vars: JSONValue = [:]) throws -> Capsule {
        try CapsuleParser.parse(["steps": .array(steps), "vars": vars])
    }

    func validate(_ steps: [JSONValue], vars: JSONValue = [:]) throws {
        let validator = CapsuleValidator(catalog: try CatalogFixture().load(), announcedOps: ["io-file.read"])
        try validator.validate(try parse(steps, vars: vars))
    }

    @Test func blocksParseWithTheirDefaults() throws {
        let c = try parse([
            ["id": "route", "switch": [["when": "$.vars.n > 1", "steps": [read("a")]], ["default": [read("b")]]]],
            ["id": "each", "foreach": "{{ vars.list }}", "steps": [read("c")]],
            ["id": "both", "parallel": ["y": [read("d")], "x": [read("e")]]],
        ], vars: ["n": 1, "list": [1]])
        guard case .switch(let cases)? = c.steps[0].block, case .foreach(let f)? = c.steps[1].block,
              case .parallel(let branches, let failFast)? = c.steps[2].block else {
            Issue.record("not parsed as blocks")
            return
        }
        #expect(cases.count == 2 && cases[1].when == nil && cases[1].steps[0].pointer.description == "/steps/0/switch/1/default/0")
        #expect(f.itemName == "item" && f.concurrency == 1 && f.failFast && f.collect == nil)
        #expect(branches.map(\.name) == ["x", "y"] && failFast, "branches in the order of their names")
        #expect(c.allSteps.map(\.id) == ["route", "a", "b", "each", "c", "both", "e", "d"])
        #expect(c.step(id: "d")?.pointer.description == "/steps/2/parallel/y/0")
    }

    @Test func wrongBlocksAreRefusedAtTheirPlace() {
        let cases: [(JSONValue, String, String)] = [
            (["id": "s", "switch": []], "/steps/0/switch", "non-empty list of cases"),
            (["id": "s", "switch": [["default": [read("a")]], ["when": "true", "steps": [read("b")]]]],
             "/steps/0/switch/0", "the default case comes last"),
            (["id": "s", "switch": [["when": "true"]]], "/steps/0/switch/0/steps", "a case needs steps"),
            (["id": "s", "switch": [["when": "1 +", "steps": [read("a")]]]], "/steps/0/switch/0/when", "when:"),
            (["id": "s", "switch": [["if": "true", "steps": [read("a")]]]], "/steps/0/switch/0/if", "unknown case key"),
            (["id": "f", "foreach": [1]], "/steps/0/steps", "needs steps"),
            (["id": "f", "foreach": 3, "steps": [read("a")]], "/steps/0/foreach", "a list, a template that gives one"),
            (["id": "f", "foreach": [1], "concurrency": 0, "steps": [read("a")]], "/steps/0/concurrency", "from 1 to 1024"),
            (["id": "f", "foreach": [1], "concurrency": 1025, "steps": [read("a")]], "/steps/0/concurrency", "from 1 to 1024"),
            (["id": "f", "foreach": [1], "as": "vars", "steps": [read("a")]], "/steps/0/as", "other than vars"),
            (["id": "f", "foreach": [1], "collect": "zz", "steps": [read("a")]], "/steps/0/collect", "one of a"),
            (["id": "f", "foreach": [1], "fail_fast": "yes", "steps": [read("a")]], "/steps/0/fail_fast", "true or false"),
            (["id": "f", "foreach": [1], "layer": "io-file", "steps": [read("a")]], "/steps/0/layer", "a foreach step has"),
            (["id": "p", "parallel": [:]], "/steps/0/parallel", "named branches"),
            (["id": "p", "parallel": ["a b": [read("a")]]], "/steps/0/parallel/a b", "branch name"),
            (["id": "p", "parallel": ["x": [read("a")]], "switch": [["default": [read("b")]]]], "/steps/0/parallel", "one thing"),
            (["id": "p", "parallel": ["x": [read("a")]], "concurrency": 2], "/steps/0/concurrency", "a parallel step has"),
            (["id": "a", "layer": "io-file", "op": "read", "as": "x"], "/steps/0/as", "belongs to a foreach step"),
            (["id": "f", "foreach": [1], "steps": [read("f")]], "/steps/0/steps/0/id", "duplicate step id \"f\""),
        ]
        for (step, pointer, text) in cases {
            expectInvalid(at: pointer, text) { _ = try parse([step]) }
        }
    }

    @Test func theLimitsOfABlockHoldAtTheirEdge() throws {
        _ = try parse([["id": "f", "foreach": .array(Array(repeating: 1, count: Foreach.maxItems)), "steps": [read("a")]]])
        expectInvalid(at: "/steps/0/foreach", "at most 100000 items") {
            _ = try parse([["id": "f", "foreach": .array(Array(repeating: 1, count: Foreach.maxItems + 1)),
                            "steps": [read("a")]]])
        }
        func nested(_ depth: Int) -> JSONValue {
            var step = read("leaf")
            for d in 0..<depth { step = ["id": .string("s\(d)"), "switch": [["default": [step]]]] }
            return step
        }
        _ = try parse([nested(BlockParser.maxDepth)])
        expectInvalid(at: "/steps/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch/0/default/0/switch",
                      "nested at most 8 deep") { _ = try parse([nested(BlockParser.maxDepth + 1)]) }
        let many = (0..<CapsuleParser.maxSteps).map { read("s\($0)") }
        expectInvalid(at: "/steps", "at most 1000 steps, those inside blocks counted") {
            _ = try parse([["id": "f", "foreach": [1], "steps": .array(many)]])
        }
    }

    @Test func aStepInsideAForeachReadsItsItemAndIndexAndNothingOutsideDoes() throws {
        try validate([
            ["id": "f", "foreach": [["p": "a"]], "as": "file", "steps": [
                read("x", path: "{{ file.p }}"),
                ["id": "y", "layer": "io-file", "op": "read", "when": "$.index == 0 && $.file.p != ''",
                 "input": ["path": "{{ steps.x.output.content }}-{{ index }}"]],
            ]],
        ])
        expectInvalid(at: "/steps/1/input/path", "unknown template root \"item\"") {
            try validate([["id": "f", "foreach": [1], "steps": [read("x")]], read("y", path: "{{ item }}")])
        }
        expectInvalid(at: "/steps/1/input/path", "does not run before this step") {
            try validate([["id": "f", "foreach": [1], "steps": [read("x")]], read("y", path: "{{ steps.x.output.content }}")])
        }
        expectInvalid(at: "/steps/0/when", "when reads $.item") {
            try validate([["id": "f", "when": "$.item > 1", "foreach": [1], "steps": [read("x")]]])
        }
    }

    @Test func aStepAfterASwitchOrAParallelMayReadTheirStepsAndABranchMayNotReadItsSibling() throws {
        try validate([
            ["id": "s", "switch": [["when": "true", "steps": [read("a")]]]],
            ["id": "p", "parallel": ["x": [read("b")], "y": [read("c")]]],
            read("d", path: "{{ steps.a.output.content }}{{ steps.b.output.content }}{{ steps.p.output.x.content }}"),
        ])
        expectInvalid(at: "/steps/0/parallel/y/0/input/path", "does not run before this step") {
            try validate([["id": "p", "parallel": ["x": [read("b")], "y": [read("c", path: "{{ steps.b.output.content }}")]]]])
        }
    }
}
