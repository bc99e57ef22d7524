import JALMExpr
import JALMLayerKit
import JALMWire

/// compute-script `expr`: evaluates an expression of the `expr` language (docs/expr.md) over `data`, or
/// over the rest of the input when there is no `data`. Pure: no file, no network, no clock.
enum ExprOp {
    /// Input keys that are the op's own, not data, when `data` is absent.
    static let ownKeys: Set<String> = ["expr", "data", "max_steps", "max_memory_bytes"]

    static func run(_ input: JSONValue, settings: ExprWasmSettings, context: CallContext) throws(CallFailure) -> JSONValue {
        guard case .object(let object) = input else {
            throw CallFailure(.invalidInput, "input must be an object, got \(input.typeName)")
        }
        guard case .string(let source)? = object["expr"] else {
            throw CallFailure(.invalidInput, "expr is required and must be a string", details: ["field": "expr"])
        }
        var limits = settings.exprDefaults
        limits.maxSteps = try ExprWasmSettings.requested(
            input, "max_steps", default: limits.maxSteps, maximum: settings.exprMaxima.maxSteps,
            setting: "layers.compute-script.expr.max_steps")
        limits.maxMemoryBytes = try ExprWasmSettings.requested(
            input, "max_memory_bytes", default: limits.maxMemoryBytes, maximum: settings.exprMaxima.maxMemoryBytes,
            setting: "layers.compute-script.expr.max_memory_bytes")
        let data = object["data"] ?? .object(object.filter { !ownKeys.contains($0.key) })
        do {
            let expression = try Expression(parsing: source, limits: limits)
            return ["value": try expression.evaluate(over: data, limits: limits)]
        } catch {
            var details = error.details.objectValue ?? [:]
            details["field"] = "expr"
            throw CallFailure(error.code, "expr: \(error.message)", details: .object(details))
        }
    }
}
