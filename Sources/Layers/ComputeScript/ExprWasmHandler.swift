import JALMLayerKit
import JALMWire

/// Serves `expr` and `wasm` on this branch; the coordinator merges it into the layer's handler
/// (ComputeScriptHandler), which routes these two ops to ExprOp and WasmOp the same way.
final class ExprWasmHandler: LayerHandler {
    let ops = ["expr", "wasm"]
    let settings: ExprWasmSettings
    /// `<data>/wasm`: the only folder `wasm` reads modules from.
    let wasmRoot: String

    init(setup: LayerSetup) throws {
        self.settings = try ExprWasmSettings(config: setup.config)
        self.wasmRoot = setup.dataDir + "/wasm"
    }

    init(settings: ExprWasmSettings, wasmRoot: String) {
        self.settings = settings
        self.wasmRoot = wasmRoot
    }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "expr": return try ExprOp.run(input, settings: settings, context: context)
        case "wasm": return try WasmOp.run(input, settings: settings, wasmRoot: wasmRoot, context: context)
        default: throw CallFailure(.notFound, "unknown op \"\(op)\" in compute-script", details: ["op": .string(op)])
        }
    }
}

/// Several handlers behind one plugin: announces the union of their ops and routes each call to the
/// first handler that announces the op.
struct ComposedHandler: LayerHandler {
    let handlers: [any LayerHandler]

    init(_ handlers: [any LayerHandler]) { self.handlers = handlers }

    var ops: [String] { handlers.flatMap(\.ops) }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        guard let handler = handlers.first(where: { $0.ops.contains(op) }) else {
            throw CallFailure(.notFound, "unknown op \"\(op)\" in compute-script", details: ["op": .string(op)])
        }
        return try await handler.handle(op: op, input: input, context: context)
    }
}
