import Foundation
import JALMCore
import JALMWire

extension Catalog {
    /// Loads `atoms.csv`, `layers.json` and `step_cards/*.yml` from `directory` and cross-checks them:
    /// every atom has a card with the same side effect and io type, every card has an atom, every card's
    /// layer is in layers.json, and every schema is one `JSONSchema` can apply.
    public static func load(directory: String) throws(CatalogError) -> Catalog {
        let root = URL(fileURLWithPath: directory)
        let atoms = try AtomsFile.parse(try read(root, "atoms.csv"))
        let layers = try LayersFile.parse(try read(root, "layers.json"))
        var cards: [StepCard] = []
        for name in try cardFiles(root) {
            let file = "step_cards/\(name)"
            cards.append(try CardParser.parse(try read(root, file), file: file))
        }
        try CatalogCrossCheck.check(atoms: atoms, layers: layers, cards: cards)
        return Catalog(layers: layers, cards: cards)
    }

    static func read(_ root: URL, _ file: String) throws(CatalogError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: root.appendingPathComponent(file)))
        } catch {
            throw CatalogError(file: file, "cannot be read: \(error.localizedDescription)")
        }
    }

    static func cardFiles(_ root: URL) throws(CatalogError) -> [String] {
        let folder = root.appendingPathComponent("step_cards").path
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
                .sorted()
        } catch {
            throw CatalogError(file: "step_cards", "cannot be listed: \(error.localizedDescription)")
        }
    }
}

/// One row of atoms.csv.
struct Atom: Equatable {
    var layer: String
    var op: String
    var sideEffect: SideEffect
    var ioType: String
    var line: Int
    var name: String { "\(layer).\(op)" }
}

/// `atoms.csv`: a header `name,layer,side_effect,io_type`, then one op per line.
enum AtomsFile {
    static let file = "atoms.csv"
    static let header = ["name", "layer", "side_effect", "io_type"]

    static func parse(_ bytes: [UInt8]) throws(CatalogError) -> [Atom] {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, fields(first) == header else {
            throw CatalogError(file: file, field: "line 1", "the header must be \(header.joined(separator: ","))")
        }
        var atoms: [Atom] = []
        for (i, line) in lines.enumerated().dropFirst() where !fields(line).allSatisfy(\.isEmpty) {
            let atom = try row(fields(line), line: i + 1)
            if atoms.contains(where: { $0.name == atom.name }) {
                throw CatalogError(file: file, field: "line \(i + 1)", "\(atom.name) is listed twice")
            }
            atoms.append(atom)
        }
        return atoms
    }

    private static func fields(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    private static func row(_ f: [String], line: Int) throws(CatalogError) -> Atom {
        let at = "line \(line)"
        guard f.count == 4 else { throw CatalogError(file: file, field: at, "expected 4 columns, got \(f.count)") }
        guard f[0].hasPrefix(f[1] + "."), f[0].count > f[1].count + 1 else {
            throw CatalogError(file: file, field: at, "name \(f[0]) must be <layer>.<op> with layer \(f[1])")
        }
        guard let sideEffect = SideEffect(rawValue: f[2]) else {
            throw CatalogError(file: file, field: at, "side_effect \(f[2]) must be none, read, write or external")
        }
        return Atom(layer: f[1], op: String(f[0].dropFirst(f[1].count + 1)), sideEffect: sideEffect, ioType: f[3],
                    line: line)
    }
}

/// `layers.json`: `{"layers": [{"name": ..., "summary": ..., "network": "none" | "outbound", ...}]}`.
enum LayersFile {
    static let file = "layers.json"

    static func parse(_ bytes: [UInt8]) throws(CatalogError) -> [LayerInfo] {
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch { throw CatalogError(file: file, "\(error)") }
        guard case .array(let entries)? = document["layers"] else {
            throw CatalogError(file: file, field: "/layers", "must be an array")
        }
        var layers: [LayerInfo] = []
        for (i, entry) in entries.enumerated() {
            let at = "/layers/\(i)"
            guard let name = entry["name"]?.stringValue, !name.isEmpty else {
                throw CatalogError(file: file, field: at + "/name", "must be a non-empty string")
            }
            let network = entry["network"]?.stringValue ?? "none"
            guard network == "none" || network == "outbound" else {
                throw CatalogError(file: file, field: at + "/network", "must be none or outbound")
            }
            guard !layers.contains(where: { $0.name == name }) else {
                throw CatalogError(file: file, field: at + "/name", "layer \(name) is listed twice")
            }
            let defaultOp = entry["default_op"]
            if let defaultOp, defaultOp.stringValue?.isEmpty != false {
                throw CatalogError(file: file, field: at + "/default_op", "must be a non-empty string")
            }
            layers.append(LayerInfo(name: name, summary: entry["summary"]?.stringValue ?? "", network: network,
                                    defaultOp: defaultOp?.stringValue, json: entry))
        }
        return layers
    }
}
