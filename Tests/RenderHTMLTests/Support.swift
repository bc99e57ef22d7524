#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMLayerKit
import JALMWire
@testable import RenderHTMLKit

/// A handler over a fresh temp templates folder.
struct Fixture {
    let root: String
    let handler: RenderHTMLHandler

    init(config: JSONValue = [:], files: [String: String] = [:]) throws {
        var template = Array("/tmp/jalm-render-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        root = String(cString: p!) + "/templates"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, text) in files {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        handler = try RenderHTMLHandler(templates: root, config: config)
    }

    func render(_ input: JSONValue) -> Result<String, CallFailure> {
        do {
            let out = try handler.render(input, deadline: .now + .seconds(10))
            return .success(out["html"]?.stringValue ?? "")
        } catch {
            return .failure(error)
        }
    }

    func html(_ input: JSONValue) -> String? {
        if case .success(let s) = render(input) { return s }
        return nil
    }

    func error(_ input: JSONValue) -> CallFailure? {
        if case .failure(let e) = render(input) { return e }
        return nil
    }

    func markdown(_ input: JSONValue) throws -> String {
        try handler.markdown(input)["html"]?.stringValue ?? ""
    }
}
