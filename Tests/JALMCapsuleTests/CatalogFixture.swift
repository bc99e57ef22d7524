import Foundation
import JALMCapsule

/// A small catalog written to a temporary directory: layer io-file with ops read and write.
struct CatalogFixture {
    let directory: String

    static let atoms = """
        name,layer,side_effect,io_type
        io-file.read,io-file,read,file
        io-file.write,io-file,write,file
        """

    static let layers = #"{"layers":[{"name":"io-file","summary":"Files beneath the data root.","network":"none"}]}"#

    static let readCard = """
        layer: io-file
        op: read
        summary: Read a file beneath the data root.
        side_effect: read
        io_type: file
        timeout: 10s
        input:
          type: object
          properties:
            path: {type: string, pattern: "^[^/]"}
            encoding: {enum: [text, base64], default: text}
          required: [path]
          additionalProperties: false
        output:
          type: object
          properties:
            content: {type: string}
            size: {type: integer}
        examples:
          - name: reads back what was written
            before:
              - op: write
                input: {path: notes/a.txt, content: hello}
            input: {path: notes/a.txt}
            output: {content: hello, size: 5}
          - name: refuses absolute paths
            input: {path: /etc/passwd}
            error: invalid_input
        """

    static let writeCard = """
        layer: io-file
        op: write
        summary: Write a file atomically.
        side_effect: write
        io_type: file
        input:
          type: object
          properties:
            path: {type: string}
            content: {type: string}
          required: [path, content]
          additionalProperties: false
        output: {type: object}
        """

    /// Writes the fixture, with `files` replacing or adding files (nil content deletes).
    init(_ files: [String: String?] = [:]) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("catalog-\(UUID().uuidString)").path
        var all: [String: String?] = [
            "atoms.csv": Self.atoms, "layers.json": Self.layers,
            "step_cards/io-file.read.yml": Self.readCard, "step_cards/io-file.write.yml": Self.writeCard,
        ]
        for (name, content) in files { all[name] = content }
        try FileManager.default.createDirectory(atPath: directory + "/step_cards", withIntermediateDirectories: true)
        for case (let name, let content?) in all {
            try content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }

    func load() throws(CatalogError) -> Catalog {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try Catalog.load(directory: directory)
    }

    /// The load error, or nil when the catalog loads.
    static func loadError(_ files: [String: String?]) throws -> CatalogError? {
        let fixture = try CatalogFixture(files)
        do {
            _ = try fixture.load()
            return nil
        } catch {
            return error
        }
    }
}
