import JALMCapsule
import JALMCore
import JALMWire
import Testing

@Suite struct CapsuleParserTests {
    static let step: JSONValue = ["id": "a", "layer": "io-file", "op": "read", "input": ["path": "x"]]

    func withStep(_ edit: (inout [String: JSONValue]) -> Void) -> JSONValue {
        var s = Self.step.objectValue!
        edit(&s)
        return ["steps": [.object(s)]]
    }

    @Test func minimalCapsuleGetsDefaults() throws {
        let c = try CapsuleParser.parse(["steps": [["id": "a", "layer": "io-file", "op": "read"]]])
        #expect(c.intent == "unnamed")
        #expect(c.vars.isEmpty && c.secretNames.isEmpty && c.meta == .null)
        #expect(c.steps[0].input == [:])
        #expect(c.steps[0].pointer.description == "/steps/0")
        #expect(c.steps[0].timeoutMs == nil && c.steps[0].retry == nil)
        #expect(c.basePointer == .root)
    }

    @Test func fullCapsuleKeepsEveryField() throws {
        let doc: JSONValue = ["intent": "i", "vars": ["x": 1], "meta": ["priority": "HIGH"], "secrets": ["TOKEN"],
                              "steps": [Self.step, ["id": "b", "layer": "l", "op": "o", "timeout": "5m"]]]
        let c = try CapsuleParser.parse(doc)
        #expect(c.intent == "i" && c.vars == ["x": 1] && c.meta == ["priority": "HIGH"])
        #expect(c.secretNames == ["TOKEN"])
        #expect(c.steps.map(\.id) == ["a", "b"] && c.steps[1].index == 1)
        #expect(c.steps[1].timeoutMs == 300_000)
        #expect(c.document == doc)
    }

    @Test func wrapperPrefixesEveryPointer() throws {
        let c = try CapsuleParser.parse(["jalm_config": ["steps": [Self.step]]])
        #expect(c.basePointer.description == "/jalm_config")
        #expect(c.steps[0].pointer.description == "/jalm_config/steps/0")
        expectInvalid(at: "/jalm_config/steps/0/op") {
            _ = try CapsuleParser.parse(["jalm_config": ["steps": [["id": "a", "layer": "x"]]]])
        }
    }

    @Test func documentMustBeAnObject() {
        expectInvalid(at: "", "must be an object") { _ = try CapsuleParser.parse([1, 2]) }
        expectInvalid(at: "/jalm_config") { _ = try CapsuleParser.parse(["jalm_config": "x"]) }
    }

    @Test func intentMustBeAString() {
        expectInvalid(at: "/intent") { _ = try CapsuleParser.parse(["intent": 3, "steps": [Self.step]]) }
    }

    @Test func stepsAreRequired() {
        expectInvalid(at: "/steps", "required") { _ = try CapsuleParser.parse(["intent": "x"]) }
    }

    @Test func stepsMustBeANonEmptyArray() {
        expectInvalid(at: "/steps", "array") { _ = try CapsuleParser.parse(["steps": ["a": 1]]) }
        expectInvalid(at: "/steps", "empty") { _ = try CapsuleParser.parse(["steps": []]) }
    }

    @Test func atMostMaxStepsAreAccepted() throws {
        let steps = (0...CapsuleParser.maxSteps).map { i -> JSONValue in
            ["id": .string("s\(i)"), "layer": "l", "op": "o"]
        }
        expectInvalid(at: "/steps", "at most 1000") { _ = try CapsuleParser.parse(["steps": .array(steps)]) }
        #expect(try CapsuleParser.parse(["steps": .array(Array(steps.dropLast()))]).steps.count == 1000)
    }

    @Test func aStepMustBeAnObject() {
        expectInvalid(at: "/steps/1") { _ = try CapsuleParser.parse(["steps": [Self.step, "x"]]) }
    }

    @Test func stepIDIsRequiredAndPatterned() {
        expectInvalid(at: "/steps/0/id", "required") { _ = try CapsuleParser.parse(withStep { $0["id"] = nil }) }
        for bad: JSONValue in ["1abc", "a b", "a.b", .string(String(repeating: "a", count: 65)), 7, ""] {
            expectInvalid(at: "/steps/0/id") { _ = try CapsuleParser.parse(withStep { $0["id"] = bad }) }
        }
        for good in ["_x", "fetch-rows_2", String(repeating: "a", count: 64)] {
            #expect((try? CapsuleParser.parse(withStep { $0["id"] = .string(good) })) != nil)
        }
    }

    @Test func duplicateIDPointsAtTheDuplicate() {
        expectInvalid(at: "/steps/2/id", "duplicate") {
            _ = try CapsuleParser.parse(["steps": [Self.step, ["id": "b", "layer": "l", "op": "o"], Self.step]])
        }
    }

    @Test func layerAndOpAreRequiredStrings() {
        expectInvalid(at: "/steps/0/layer") { _ = try CapsuleParser.parse(withStep { $0["layer"] = nil }) }
        expectInvalid(at: "/steps/0/op") { _ = try CapsuleParser.parse(withStep { $0["op"] = 5 }) }
    }

    @Test func aStepWithoutOpRunsItsLayersDefaultOp() throws {
        let c = try CapsuleParser.parse(withStep { $0["op"] = nil; $0["layer"] = "io-http" },
                                        defaultOps: ["io-http": "request"])
        #expect(c.steps[0].op == "request")
        // An op given wins over the default.
        let given = try CapsuleParser.parse(withStep { $0["layer"] = "io-http"; $0["op"] = "get" },
                                            defaultOps: ["io-http": "request"])
        #expect(given.steps[0].op == "get")
    }

    @Test func aStepWithoutOpOnALayerWithoutDefaultIsRefusedAtOp() {
        expectInvalid(at: "/steps/0/op", "io-file\" has no default op (layers with one: io-http)") {
            _ = try CapsuleParser.parse(withStep { $0["op"] = nil }, defaultOps: ["io-http": "request"])
        }
        expectInvalid(at: "/steps/0/op", "op is required") { _ = try CapsuleParser.parse(withStep { $0["op"] = nil }) }
    }

    @Test func inputMustBeAnObject() {
        expectInvalid(at: "/steps/0/input") { _ = try CapsuleParser.parse(withStep { $0["input"] = ["x"] }) }
    }

    @Test func unknownStepKeyPointsAtTheKey() {
        expectInvalid(at: "/steps/0/inputs", "unknown step key") {
            _ = try CapsuleParser.parse(withStep { $0["inputs"] = [:] })
        }
    }

    @Test func reservedStepKeysAreNotSupportedYet() {
        for key in ["name", "description"] {
            expectInvalid(at: "/steps/0/\(key)", "not supported yet") {
                _ = try CapsuleParser.parse(withStep { $0[key] = "x" })
            }
        }
    }

    @Test func onErrorIsFailContinueOrAFallback() throws {
        #expect(try CapsuleParser.parse(withStep { _ in }).steps[0].onError == .fail)
        #expect(try CapsuleParser.parse(withStep { $0["on_error"] = "continue" }).steps[0].onError == .continue)
        #expect(try CapsuleParser.parse(withStep { $0["on_error"] = "fail" }).steps[0].onError == .fail)
        expectInvalid(at: "/steps/0/on_error", "\"fail\", \"continue\" or a fallback {steps: [...]}") {
            _ = try CapsuleParser.parse(withStep { $0["on_error"] = "ignore" })
        }
        expectInvalid(at: "/steps/0/on_error/steps", "steps must not be empty") {
            _ = try CapsuleParser.parse(withStep { $0["on_error"] = ["steps": []] })
        }
        expectInvalid(at: "/steps/0/on_error/then", "unknown on_error key \"then\"") {
            _ = try CapsuleParser.parse(withStep { $0["on_error"] = ["then": []] })
        }
        expectInvalid(at: "/steps/0/on_error", "a fallback is {steps: [...]}") {
            _ = try CapsuleParser.parse(withStep { $0["on_error"] = [:] })
        }
        let fallback = try CapsuleParser.parse(withStep {
            $0["on_error"] = ["steps": [["id": "fb", "layer": "io-file", "op": "read", "input": [:]]]]
        })
        #expect(fallback.steps[0].onError.fallback?.map(\.id) == ["fb"])
        #expect(fallback.allSteps.map(\.id).contains("fb"), "a fallback's steps are the capsule's steps")
        expectInvalid(at: "/steps/0/on_error/steps/0/id", "duplicate step id") {
            _ = try CapsuleParser.parse(withStep { s in s["on_error"] = ["steps": [.object(s)]] })
        }
    }

    @Test func compensateIsAnOpCallWithoutIdOrConditions() throws {
        let c = try CapsuleParser.parse(withStep {
            $0["compensate"] = ["layer": "io-file", "op": "delete", "input": ["path": "x"], "retry": ["max": 3], "timeout": "5s"]
        })
        let comp = try #require(c.steps[0].compensation)
        #expect(comp.layer == "io-file" && comp.op == "delete" && comp.timeoutMs == 5000 && comp.retry?.max == 3)
        #expect(comp.pointer.description == "/steps/0/compensate")
        #expect(comp.step(undoing: c.steps[0]).id == "\(c.steps[0].id):compensate")
        expectInvalid(at: "/steps/0/compensate", "compensate must be an op call") {
            _ = try CapsuleParser.parse(withStep { $0["compensate"] = "x" })
        }
        expectInvalid(at: "/steps/0/compensate/when", "unknown compensate key \"when\"") {
            _ = try CapsuleParser.parse(withStep { $0["compensate"] = ["layer": "io-file", "op": "delete", "when": "true"] })
        }
        expectInvalid(at: "/steps/0/compensate/layer", "layer is required") {
            _ = try CapsuleParser.parse(withStep { $0["compensate"] = ["op": "delete"] })
        }
        expectInvalid(at: "/steps/0/compensate", "belongs to a step that calls an op") {
            _ = try CapsuleParser.parse(.object(["steps": [["id": "s", "set": ["a": 1], "compensate": ["layer": "x"]]]]))
        }
    }

    @Test func expectedOutputsAreParsedAndCheckedAtSubmit() throws {
        let c = try CapsuleParser.parse(withStep { $0["expected_outputs"] = [
            ["path": "/rows", "type": "array"],
            ["pattern": "^ok", "message": "must start with ok"],
            ["path": "/a~1b", "type": "integer", "schema": ["minimum": 1], "expr": "$.value < $.output.max"],
        ] })
        let e = c.steps[0].expectedOutputs
        #expect(e.map(\.path.description) == ["/rows", "", "/a~1b"])
        #expect(e[0].schema == ["type": "array"] && e[0].expr == nil)
        #expect(e[1].schema == ["type": "string", "pattern": "^ok"] && e[1].message == "must start with ok")
        #expect(e[2].schema == ["allOf": [["type": "integer"], ["minimum": 1]]] && e[2].expr?.source == "$.value < $.output.max")
        #expect(e[2].pointer.description == "/steps/0/expected_outputs/2")
        let cases: [(JSONValue, String, String)] = [
            (["path": "/x"], "/steps/0/expected_outputs/0", "needs at least one of type, pattern, schema or expr"),
            (["path": "rows", "type": "array"], "/steps/0/expected_outputs/0/path", "must be a JSON Pointer"),
            (["type": "list"], "/steps/0/expected_outputs/0/type", "type: must be one of array, boolean"),
            (["pattern": "(unclosed"], "/steps/0/expected_outputs/0/pattern", "not a valid regular expression"),
            (["schema": ["properties": ["a": ["minLength": -1]]]], "/steps/0/expected_outputs/0/schema/properties/a/minLength",
             "must be a non-negative integer"),
            (["expr": "$.value >"], "/steps/0/expected_outputs/0/expr", "expr: the expression ends where a value was expected"),
            (["expr": "$.steps.a.output"], "/steps/0/expected_outputs/0/expr", "an expectation sees $.value, $.output, $.vars and $.execution"),
            (["type": "string", "equals": 1], "/steps/0/expected_outputs/0/equals", "unknown expectation key \"equals\""),
            (["type": "string", "message": ""], "/steps/0/expected_outputs/0/message", "must be a non-empty string"),
            ("string", "/steps/0/expected_outputs/0", "an expectation must be an object"),
        ]
        for (entry, pointer, text) in cases {
            expectInvalid(at: pointer, text) { _ = try CapsuleParser.parse(withStep { $0["expected_outputs"] = [entry] }) }
        }
        expectInvalid(at: "/steps/0/expected_outputs", "must be a list of expectations, got object") {
            _ = try CapsuleParser.parse(withStep { $0["expected_outputs"] = ["path": "/x", "type": "string"] })
        }
    }

    @Test func metaTimeoutAndMaxStepsAreLimitsCheckedAtTheirEdges() throws {
        func limits(_ meta: JSONValue) throws -> ExecutionLimits {
            try CapsuleParser.parse(["steps": [Self.step], "meta": meta]).limits
        }
        #expect(try limits(["priority": "high"]) == ExecutionLimits())
        #expect(try limits(["timeout": "90s", "max_steps": 50]) == ExecutionLimits(timeoutMs: 90_000, maxStepRuns: 50))
        #expect(try limits(["timeout": "24h", "max_steps": 1_000_000]).maxStepRuns == 1_000_000)
        #expect(try limits(["timeout": "1ms", "max_steps": 1]).timeoutMs == 1)
        expectInvalid(at: "/meta/timeout", "at most 24h") { _ = try limits(["timeout": "25h"]) }
        expectInvalid(at: "/meta/timeout", "more than 0") { _ = try limits(["timeout": 0]) }
        expectInvalid(at: "/meta/timeout", "a number of seconds or a text") { _ = try limits(["timeout": "soon"]) }
        expectInvalid(at: "/meta/max_steps", "from 1 to 1000000") { _ = try limits(["max_steps": 0]) }
        expectInvalid(at: "/meta/max_steps", "from 1 to 1000000") { _ = try limits(["max_steps": 1_000_001]) }
        expectInvalid(at: "/meta/max_steps", "from 1 to 1000000") { _ = try limits(["max_steps": 2.5]) }
        expectInvalid(at: "/jalm_config/meta/max_steps") {
            _ = try CapsuleParser.parse(["jalm_config": ["steps": [Self.step], "meta": ["max_steps": "10"]]])
        }
    }

    @Test func anAbortStepHasIdWhenAndAbortOnly() throws {
        let c = try CapsuleParser.parse(["steps": [
            ["id": "stop", "when": "$.vars.x == 1", "abort": ["message": "no", "code": "not_found"]],
            ["id": "plain", "abort": ["message": "stop here"]],
        ], "vars": ["x": 1]])
        #expect(c.steps[0].abort == AbortSpec(message: "no", code: .notFound) && c.steps[0].when != nil)
        #expect(c.steps[1].abort == AbortSpec(message: "stop here", code: .conflict), "the default code is conflict")
        let cases: [(JSONValue, String, String)] = [
            (["id": "a", "layer": "io-file", "abort": ["message": "x"]], "/steps/0/layer", "an abort step has id, when and abort"),
            (["id": "a", "abort": "stop"], "/steps/0/abort", "abort must be an object {message, code}"),
            (["id": "a", "abort": [:]], "/steps/0/abort/message", "abort needs a message"),
            (["id": "a", "abort": ["message": "x", "code": "unknown"]], "/steps/0/abort/code", "code must be one of"),
            (["id": "a", "abort": ["message": "x", "reason": "y"]], "/steps/0/abort/reason", "unknown abort key \"reason\""),
        ]
        let validator = CapsuleValidator(catalog: try CatalogFixture().load(), announcedOps: [])
        expectInvalid(at: "/steps/0/abort/message", "an abort message is journaled, so it may not hold a secret") {
            try validator.validate(try CapsuleParser.parse(["secrets": ["tok"], "steps": [
                ["id": "a", "abort": ["message": "token {{ secrets.tok }}"]]]]))
        }
        for (step, pointer, text) in cases {
            expectInvalid(at: pointer, text) { _ = try CapsuleParser.parse(["steps": [step]]) }
        }
    }

    @Test func aSetStepHasIdWhenAndSetAndItsVarsAreKnownAfterIt() throws {
        let c = try CapsuleParser.parse(["steps": [["id": "s", "set": ["total": "{{ vars.n * 2 }}", "label": "x"]]],
                                         "vars": ["n": 1]])
        #expect(c.steps[0].set == ["total": "{{ vars.n * 2 }}", "label": "x"] && c.steps[0].isControl)
        let cases: [(JSONValue, String, String)] = [
            (["id": "a", "layer": "io-file", "set": ["x": 1]], "/steps/0/layer", "a set step has id, when and set"),
            (["id": "a", "set": [:]], "/steps/0/set", "set must be an object of var names and values"),
            (["id": "a", "set": ["1x": 1]], "/steps/0/set/1x", "var name \"1x\" must match"),
        ]
        for (step, pointer, text) in cases {
            expectInvalid(at: pointer, text) { _ = try CapsuleParser.parse(["steps": [step]]) }
        }
    }

    @Test func whenIsParsedWithTheCapsule() throws {
        let c = try CapsuleParser.parse(withStep { $0["when"] = "$.vars.n > 1" })
        #expect(c.steps[0].when?.source == "$.vars.n > 1")
        expectInvalid(at: "/steps/0/when", "when: the expression ends where a value was expected at line 2, column 3 (offset 10)") {
            _ = try CapsuleParser.parse(withStep { $0["when"] = "$.a > 1\n *" })
        }
        expectInvalid(at: "/steps/0/when", "when must be an expression in a string") {
            _ = try CapsuleParser.parse(withStep { $0["when"] = 1 })
        }
    }

    @Test func timeoutAcceptsSecondsAndUnits() throws {
        for (value, ms): (JSONValue, Int64) in [(2, 2000), (0.5, 500), ("500ms", 500), ("30s", 30_000),
                                                 ("5m", 300_000), ("1h", 3_600_000), ("24h", 86_400_000)] {
            #expect(try CapsuleParser.parse(withStep { $0["timeout"] = value }).steps[0].timeoutMs == ms)
        }
    }

    @Test func timeoutMustBePositiveAndAtMostADay() {
        for bad: JSONValue in [0, -1, "0s", "25h", "90000s", "fast", "5 s", true] {
            expectInvalid(at: "/steps/0/timeout") { _ = try CapsuleParser.parse(withStep { $0["timeout"] = bad }) }
        }
    }

    @Test func retryDefaultsAndFields() throws {
        let defaults = try CapsuleParser.parse(withStep { $0["retry"] = ["max": 3] }).steps[0].retry
        #expect(defaults == RetrySpec(max: 3, baseMs: 200, factor: 2, maxDelayMs: 30_000, jitter: 0.2, retryOn: nil))
        let full = try CapsuleParser.parse(withStep {
            $0["retry"] = ["max": 5, "base": "1s", "factor": 3, "max_delay": "1m", "jitter": 0,
                           "retry_on": ["timeout", "upstream_error"]]
        }).steps[0].retry
        #expect(full == RetrySpec(max: 5, baseMs: 1000, factor: 3, maxDelayMs: 60_000, jitter: 0,
                                  retryOn: [.timeout, .upstreamError]))
    }

    @Test func retryFieldsAreRangeChecked() {
        let cases: [(JSONValue, String)] = [
            (["max": 101], "/max"), (["max": -1], "/max"), (["max": 1.5], "/max"), (["factor": 0.5], "/factor"),
            (["jitter": 1.5], "/jitter"), (["base": "0s"], "/base"), (["max_delay": "2d"], "/max_delay"),
            (["retry_on": ["nope"]], "/retry_on/0"), (["retry_on": "timeout"], "/retry_on"),
            (["maxx": 1], "/maxx"), (["strategy": "sometimes"], "/strategy"), ("3", ""),
        ]
        for (retry, suffix) in cases {
            expectInvalid(at: "/steps/0/retry" + suffix) { _ = try CapsuleParser.parse(withStep { $0["retry"] = retry }) }
        }
    }

    @Test func varsMetaAndSecretsHaveTheirShapes() {
        expectInvalid(at: "/vars") { _ = try CapsuleParser.parse(["vars": [1], "steps": [Self.step]]) }
        expectInvalid(at: "/meta") { _ = try CapsuleParser.parse(["meta": "x", "steps": [Self.step]]) }
        expectInvalid(at: "/secrets") { _ = try CapsuleParser.parse(["secrets": "x", "steps": [Self.step]]) }
        expectInvalid(at: "/secrets/1") { _ = try CapsuleParser.parse(["secrets": ["A", 2], "steps": [Self.step]]) }
    }
}

@Suite struct DurationTextTests {
    @Test func parsesNumbersAndUnits() {
        #expect(DurationText.parseMilliseconds(3) == 3000)
        #expect(DurationText.parseMilliseconds(1.25) == 1250)
        #expect(DurationText.parseMilliseconds("1.5s") == 1500)
        #expect(DurationText.parseMilliseconds("250ms") == 250)
        #expect(DurationText.parseMilliseconds("2m") == 120_000)
        #expect(DurationText.parseMilliseconds("1h") == 3_600_000)
    }

    @Test func refusesWhatIsNotADuration() {
        for bad: JSONValue in ["", "s", "10", "10d", "1e3s", "-5s", "ten s", nil, [1], .int(Int64.max)] {
            #expect(DurationText.parseMilliseconds(bad) == nil, "\(bad)")
        }
    }
}
