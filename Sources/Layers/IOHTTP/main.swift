import JALMLayerKit
import JALMWire

// The io-http layer: request, get and llm.chat through libcurl behind the SSRF guard (JALMNet).
await LayerKit.serve(layer: "io-http", version: jalmVersion) { setup in try IOHTTPHandler(settings: IOHTTPSettings(setup: setup)) }
