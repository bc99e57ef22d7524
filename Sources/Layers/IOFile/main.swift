import JALMLayerKit
import JALMWire

// The io-file layer: file operations confined beneath <data>/files (JALM_FILES_ROOT overrides), bounded by
// the settings in jalmd.yml `layers: {io-file: {...}}` (IOFileSettings).
await LayerKit.serve(layer: "io-file", version: jalmVersion) { setup in
    try IOFileHandler(root: LayerSetup.env(SpawnEnvironment.filesRoot) ?? setup.dataDir + "/files",
                      settings: IOFileSettings(config: setup.config))
}
