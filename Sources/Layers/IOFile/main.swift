import JALMLayerKit
import JALMWire

// The io-file layer: file operations confined beneath <data>/files (JALM_FILES_ROOT overrides).
await LayerKit.serve(layer: "io-file", version: jalmVersion) { setup in
    try IOFileHandler(root: LayerSetup.env("JALM_FILES_ROOT") ?? setup.dataDir + "/files")
}
