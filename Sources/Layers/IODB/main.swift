import JALMLayerKit
import JALMWire

// The io-db layer. Its real ops come with their own issue; until then it serves the diagnostic ops.
await LayerKit.serve(layer: "io-db", version: jalmVersion) { _ in DiagnosticsOnlyHandler() }
