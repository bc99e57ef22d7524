import JALMLayerKit
import JALMWire
import Testing
@testable import jalm_layer_compute_script

@Suite struct ExprOpTests {
    let handler = ExprWasmHandler(settings: ExprWasmSettings(), wasmRoot: "/nonexistent")

    func run(_ input: JSONValue, settings: ExprWasmSettings = ExprWasmSettings()) async -> Result<JSONValue, CallFailure> {
        let handler = ExprWasmHandler(settings: settings, wasmRoot: "/nonexistent")
        do { return .success(try await handler.handle(op: "expr", input: input, context: context())) } catch {
            return .failure(error)
        }
    }

    @Test func evaluatesOverDataOrOverTheInput() async throws {
        #expect(try await run(["expr": "sum(map($.items, x => x.price))", "data": ["items": [["price": 2], ["price": 3]]]]).get()
            == ["value": 5])
        #expect(try await run(["expr": "upper($.city)", "city": "lyon"]).get() == ["value": "LYON"])
        #expect(try await run(["expr": "$", "data": nil]).get() == ["value": nil])
    }

    @Test func parseErrorsCarryTheirPosition() async {
        guard case .failure(let f) = await run(["expr": "$.a +", "data": [:]]) else { Issue.record("parsed"); return }
        #expect(f.code == .invalidInput)
        #expect(f.message == "expr: the expression ends where a value was expected at line 1, column 6 (offset 5)")
        #expect(f.details == ["line": 1, "column": 6, "offset": 5, "field": "expr"])
    }

    @Test func perStepBudgetsWithinTheLayerMaxima() async throws {
        let bomb: JSONValue = ["expr": "len(filter($.a, x => any($.a, y => y < 0)))",
                              "data": ["a": .array((0..<300).map { .int($0) })]]
        guard case .failure(let f) = await run(bomb) else { Issue.record("no budget"); return }
        #expect(f.code == .resourceExhausted && f.details?["limit"] == "max_steps")
        var raised = bomb.objectValue!
        raised["max_steps"] = 1_000_000
        #expect(try await run(.object(raised)).get() == ["value": 0])
        raised["max_steps"] = 20_000_000
        guard case .failure(let over) = await run(.object(raised)) else { Issue.record("above max"); return }
        #expect(over.code == .invalidInput && over.message.contains("layers.compute-script.expr.max_steps"))
        let settings = try ExprWasmSettings(config: ["expr": ["max_steps": 30_000_000]])
        #expect(try await run(.object(raised), settings: settings).get() == ["value": 0])
    }

    @Test func badSettingsStopTheLayer() {
        #expect(throws: SettingsError.self) { try ExprWasmSettings(config: ["expr": ["max_steps": -1]]) }
        #expect(throws: SettingsError.self) { try ExprWasmSettings(config: ["wasm": "x"]) }
        #expect(throws: SettingsError.self) { try ExprWasmSettings(config: ["wasm": ["max_fuel": 10, "default_fuel": 20]]) }
    }
}
