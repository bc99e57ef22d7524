import JALMExpr
import JALMWire
import Testing

@Suite struct ExprLimitTests {
    static let hundred: JSONValue = ["a": .array((0..<100).map { .int($0) }), "s": "xxxxxxxxxxxxxxxx"]

    /// Nested map over a repeated array: 100^4 lambda runs. Stopped by max_steps long before.
    @Test func nestedMapBombStopsAtStepBudget() throws {
        let bomb = try Expression(parsing: "len(map($.a, x => map($.a, y => map($.a, z => map($.a, w => x + y + z + w)))))")
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try bomb.evaluate(over: Self.hundred)
            Issue.record("the bomb finished")
        } catch {
            #expect(error.code == .resourceExhausted && error.limit == "max_steps", "\(error)")
            #expect(error.message.contains("max_steps (100000)"))
        }
        #expect(clock.now - started < .seconds(2))
    }

    /// String doubling through map + join: each level multiplies the string by 100. Stopped by the
    /// memory budget before the big string is built.
    @Test func stringGrowthBombStopsAtMemoryBudget() throws {
        let bomb = try Expression(parsing: "len(join(map($.a, x => join(map($.a, y => join(map($.a, z => $.s), '')), '')), ''))")
        do {
            _ = try bomb.evaluate(over: Self.hundred, limits: ExprLimits(maxSteps: 10_000_000))
            Issue.record("the bomb finished")
        } catch {
            #expect(error.code == .resourceExhausted && error.limit == "max_memory_bytes", "\(error)")
        }
    }

    /// Exponential doubling by concatenation: `s + s` nested is caught by its size, not its time.
    @Test func concatenationDoublingStops() throws {
        var source = "$.s"
        for _ in 0..<20 { source = "map([1, 2], x => \(source))" }
        let e = try Expression(parsing: "string(\(source))", limits: ExprLimits(maxDepth: 200))
        #expect(throws: ExprError.self) { try e.evaluate(over: Self.hundred) }
    }

    /// Each budget at its edge: exactly the limit passes, one less fails.
    @Test func stepBudgetEdge() throws {
        let e = try Expression(parsing: "1 + 2")
        let used = try e.evaluateWithUsage(over: nil).usage.steps
        #expect(used == 3)
        #expect(try e.evaluate(over: nil, limits: ExprLimits(maxSteps: 3)) == 3)
        #expect(throws: ExprError(.resourceExhausted, "evaluation took more than max_steps (2) steps",
                                  position: SourcePosition(line: 1, column: 5, offset: 4), limit: "max_steps")) {
            try e.evaluate(over: nil, limits: ExprLimits(maxSteps: 2))
        }
    }

    @Test func memoryBudgetEdge() throws {
        let e = try Expression(parsing: "'abcd' + 'efgh'")
        #expect(try e.evaluateWithUsage(over: nil).usage.memoryBytes == 8)
        #expect(try e.evaluate(over: nil, limits: ExprLimits(maxMemoryBytes: 8)) == "abcdefgh")
        do {
            _ = try e.evaluate(over: nil, limits: ExprLimits(maxMemoryBytes: 7))
            Issue.record("passed the memory budget")
        } catch {
            #expect(error.limit == "max_memory_bytes" && error.code == .resourceExhausted)
        }
    }

    @Test func sourceLengthEdge() throws {
        let source = String(repeating: "1+", count: 50) + "1"  // 101 bytes
        _ = try Expression(parsing: source, limits: ExprLimits(maxSourceBytes: 101, maxDepth: 200))
        do {
            _ = try Expression(parsing: source, limits: ExprLimits(maxSourceBytes: 100, maxDepth: 200))
            Issue.record("accepted a source over the limit")
        } catch {
            #expect(error.limit == "max_source_bytes" && error.code == .resourceExhausted)
        }
    }

    @Test func depthEdge() throws {
        // Parentheses nest the parser without adding nodes; operators add nodes. Both are bounded.
        _ = try Expression(parsing: String(repeating: "(", count: 63) + "1" + String(repeating: ")", count: 63))
        for source in [String(repeating: "(", count: 65) + "1" + String(repeating: ")", count: 65),
                       String(repeating: "1+", count: 64) + "1",
                       String(repeating: "!", count: 70) + "true"] {
            do {
                _ = try Expression(parsing: source)
                Issue.record("accepted depth beyond 64: \(source.prefix(20))")
            } catch {
                #expect(error.limit == "max_depth" && error.code == .resourceExhausted, "\(error)")
                #expect(error.position != nil)
            }
        }
        // Deep enough for the default, too deep for 8.
        _ = try Expression(parsing: String(repeating: "1+", count: 10) + "1")
        #expect(throws: ExprError.self) { try Expression(parsing: String(repeating: "1+", count: 10) + "1", limits: ExprLimits(maxDepth: 8)) }
    }

    @Test func rootPathsListConstantReads() throws {
        let e = try Expression(parsing: "$.steps.a.output.n > 1 && map($.vars.list, x => x)[0] == $['steps']['b'].state")
        #expect(Set(e.rootPaths) == [["steps", "a", "output", "n"], ["vars", "list"], ["steps", "b", "state"]])
    }
}
