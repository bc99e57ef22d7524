import Foundation
import JALMCore
import JALMDocument
import JALMSupervisor
import JALMWire

/// What a swap request names: another binary for the layer's manifest, or a whole other manifest.
enum SwapManifest {
    static func resolve(_ doc: JSONValue, current: LayerManifest) throws(RunnerError) -> LayerManifest {
        if let path = doc["manifest"]?.stringValue {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RunnerError(.notFound, "cannot read manifest \(path)", pointer: "/manifest")
            }
            let dir = (path as NSString).deletingLastPathComponent
            let m = try LayerManifest.parse(Document.parse(Array(data), contentType: "yaml"), directory: dir)
            guard m.name == current.name else {
                throw RunnerError(.invalidInput, "manifest \(path) is for layer \(m.name), not \(current.name)",
                                  pointer: "/manifest")
            }
            return m
        }
        guard let binary = doc["binary"]?.stringValue, binary.hasPrefix("/") else {
            throw RunnerError(.invalidInput, "a swap needs \"binary\" (an absolute path) or \"manifest\"",
                              pointer: "/binary")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw RunnerError(.notFound, "\(binary) is not an executable file", pointer: "/binary")
        }
        var m = current
        m.executable = binary
        m.version = "?"
        return m
    }
}
