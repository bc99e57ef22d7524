import JALMLayerKit
import JALMWire

// The compute-script layer: `expr` and `wasm` (ExprWasmHandler); `run` is merged in from its own branch.
await LayerKit.serve(layer: "compute-script", version: jalmVersion) { setup in try ExprWasmHandler(setup: setup) }
