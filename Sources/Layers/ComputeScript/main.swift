import JALMLayerKit
import JALMWire

// The compute-script layer: `run` (python3, sh, node) through pre-initialised zygotes (ComputeScriptHandler).
await LayerKit.serve(layer: "compute-script", version: jalmVersion) { setup in try ComputeScriptHandler(setup: setup) }
