import JALMLayerKit
import JALMWire

// The io-http layer. Its real ops come with their own issue; until then it serves the diagnostic ops.
await LayerKit.serve(layer: "io-http", version: jalmVersion) { _ in DiagnosticsOnlyHandler() }
