import JALMLayerKit
import JALMWire

// The compute-script layer: `run` (python3, sh, node) through pre-initialised zygotes (ComputeScriptHandler),
// `expr` and `wasm` (ExprWasmHandler); ComposedHandler routes each op to the handler that announces it.
await LayerKit.serve(layer: "compute-script", version: jalmVersion) { setup in
    ComposedHandler([try ComputeScriptHandler(setup: setup), try ExprWasmHandler(setup: setup)])
}
