import JALMLayerKit
import JALMWire

// The notify-mq layer. Its real ops come with their own issue; until then it serves the diagnostic ops.
await LayerKit.serve(layer: "notify-mq", version: jalmVersion) { _ in DiagnosticsOnlyHandler() }
