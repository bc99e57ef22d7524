import JALMWire
import Yams

/// Where a JSON Pointer's value starts in a document's text, for messages a person reads beside the
/// file (`jalm lint`): `file:line:column`. JSON is read as YAML (it is flow-style YAML), so one walk over
/// Yams' nodes serves both. Best effort: a pointer that goes past what the document holds gives the
/// position of the deepest value it reaches.
public enum DocumentPosition {
    public struct LineColumn: Sendable, Hashable {
        /// From 1.
        public var line: Int
        /// From 1.
        public var column: Int
    }

    public static func locate(_ pointer: JSONPointer, in bytes: [UInt8]) -> LineColumn? {
        guard let text = String(validating: bytes, as: UTF8.self),
              var node = try? Parser(yaml: text, resolver: .basic).singleRoot() else { return nil }
        var found = node.mark
        for token in pointer.tokens {
            guard let next = child(of: node, token) else { break }
            node = next
            found = next.mark ?? found
        }
        // Yams' marks count both from 1.
        return found.map { LineColumn(line: $0.line, column: $0.column) }
    }

    private static func child(of node: Node, _ token: String) -> Node? {
        switch node {
        case .mapping(let mapping):
            return mapping.first { $0.key.scalar?.string == token }?.value
        case .sequence(let sequence):
            guard let i = Int(token), i >= 0, i < sequence.count else { return nil }
            return sequence[i]
        default:
            return nil
        }
    }
}
