import JALMLayerKit
import JALMWire

// The compute-script layer. Its real ops come with their own issue; until then it serves the diagnostic ops.
await LayerKit.serve(layer: "compute-script", version: jalmVersion) { _ in DiagnosticsOnlyHandler() }
