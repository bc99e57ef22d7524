import JALMLayerKit
import JALMWire

// The io-http layer. Its ops (IOHTTPHandler: request, get, llm.chat) are built but fenced: their catalog
// run through the enforced sandbox is not yet green (docs/pending/io-http.*.yml hold their step cards), so
// the process still serves the diagnostic ops only. Wire in with:
//   try IOHTTPHandler(settings: IOHTTPSettings(setup: setup))
await LayerKit.serve(layer: "io-http", version: jalmVersion) { setup in try IOHTTPHandler(settings: IOHTTPSettings(setup: setup)) }
