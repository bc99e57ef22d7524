import JALMCore
import JALMWire
import Yams

/// YAML to `JSONValue` through Yams, bounded in depth and in the nodes that aliases expand to.
enum YAMLDocument {
    static func parse(_ bytes: [UInt8]) throws(RunnerError) -> JSONValue {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw invalid("not valid YAML: the document is not UTF-8")
        }
        try YAMLPrecheck.check(bytes)
        let root: Node?
        do {
            root = try Parser(yaml: text, resolver: .basic).singleRoot()
        } catch let error as YamlError {
            throw invalid("not valid YAML: \(describe(error))")
        } catch {
            throw invalid("not valid YAML: \(error)")
        }
        guard let root else { return .null }
        var converter = YAMLConverter()
        return try converter.convert(root, depth: 0)
    }

    static func invalid(_ message: String) -> RunnerError {
        RunnerError(.invalidInput, message, at: .root)
    }

    /// One line naming where and what, without Yams' multi-line snippet.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // libyaml's own nesting stop (1000 levels) reads as ours, whichever of the two is hit.
            if problem.contains("nesting level") {
                return "line \(mark.line), column \(mark.column): YAML nests deeper than \(Document.maxDepth) levels"
            }
            let prefix = context.map { "\($0.text) " } ?? ""
            return "line \(mark.line), column \(mark.column): \(prefix)\(problem)"
        case .reader(let problem, let offset, _, _):
            return "\(problem) at byte \(offset ?? 0)"
        default:
            return "\(error)"
        }
    }
}

/// Walks a Yams node tree; counts every node it visits, so aliases cannot multiply the work unbounded.
struct YAMLConverter {
    private(set) var nodes = 0

    mutating func convert(_ node: Node, depth: Int) throws(RunnerError) -> JSONValue {
        nodes += 1
        guard nodes <= Document.maxYAMLNodes else {
            throw YAMLDocument.invalid(
                "YAML document expands to more than \(Document.maxYAMLNodes) nodes (aliases used as a bomb?)")
        }
        switch node {
        case .scalar(let scalar):
            return try YAMLScalar.value(of: scalar)
        case .sequence(let sequence):
            try checkDepth(depth, node)
            var out: [JSONValue] = []
            out.reserveCapacity(sequence.count)
            for item in sequence { out.append(try convert(item, depth: depth + 1)) }
            return .array(out)
        case .mapping(let mapping):
            try checkDepth(depth, node)
            return try convertMapping(mapping, depth: depth)
        case .alias:
            throw YAMLDocument.invalid("unresolved YAML alias")
        }
    }

    private mutating func convertMapping(_ mapping: Node.Mapping, depth: Int) throws(RunnerError) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for (key, value) in mapping {
            guard case .scalar(let keyScalar) = key else {
                throw YAMLDocument.invalid("\(location(key))mapping keys must be strings, not collections")
            }
            guard out[keyScalar.string] == nil else {
                throw YAMLDocument.invalid("\(location(key))duplicate key \"\(keyScalar.string)\"")
            }
            out[keyScalar.string] = try convert(value, depth: depth + 1)
        }
        return .object(out)
    }

    private func checkDepth(_ depth: Int, _ node: Node) throws(RunnerError) {
        guard depth < Document.maxDepth else {
            throw YAMLDocument.invalid("\(location(node))YAML nests deeper than \(Document.maxDepth) levels")
        }
    }

    private func location(_ node: Node) -> String {
        node.mark.map { "line \($0.line), column \($0.column): " } ?? ""
    }
}
