import JALMLayerKit
import JALMWire

// The io-db layer: named SQLite and PostgreSQL databases from layers.io-db in jalmd.yml.
await LayerKit.serve(layer: "io-db", version: jalmVersion) { setup in
    try IODBHandler(config: setup.config, dataDir: setup.dataDir)
}
