import JALMLayerKit
import JALMWire

// The render-html layer. Its real ops come with their own issue; until then it serves the diagnostic ops.
await LayerKit.serve(layer: "render-html", version: jalmVersion) { _ in DiagnosticsOnlyHandler() }
