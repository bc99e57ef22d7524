import JALMWire

/// A node of a parsed expression, with the byte offset it was written at (for runtime error positions)
/// and the depth of the subtree below it (bounded by `max_depth` at parse time).
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case literal(JSONValue)
        /// `$`: the data the expression is evaluated over.
        case root
        /// A lambda parameter, e.g. `x` in `x => x.price`.
        case variable(String)
        case member(Node, String)
        case index(Node, Node)
        case array([Node])
        case object([(String, Node)])
        case not(Node)
        case negate(Node)
        case binary(BinaryOperator, Node, Node)
        case and(Node, Node)
        case or(Node, Node)
        case conditional(Node, Node, Node)
        case call(Builtin, [Node])
        /// `x => body`; only as the argument of a function that takes one.
        case lambda(String, Node)
    }

    var kind: Kind
    var offset: Int
    var depth: Int
}

enum BinaryOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
}

extension Node {
    /// The children of this node, for depth and walks.
    var children: [Node] {
        switch kind {
        case .literal, .root, .variable: []
        case .member(let base, _): [base]
        case .index(let base, let index): [base, index]
        case .array(let items): items
        case .object(let members): members.map(\.1)
        case .not(let x), .negate(let x): [x]
        case .binary(_, let l, let r), .and(let l, let r), .or(let l, let r): [l, r]
        case .conditional(let c, let a, let b): [c, a, b]
        case .call(_, let args): args
        case .lambda(_, let body): [body]
        }
    }

    /// For `$.a.b["c"]`: the constant keys after `$` (["a", "b", "c"]); nil when the node is no such path.
    var rootPath: [String]? {
        switch kind {
        case .root: return []
        case .member(let base, let key): return base.rootPath.map { $0 + [key] }
        case .index(let base, let index):
            guard case .literal(.string(let key)) = index.kind else { return base.rootPath }
            return base.rootPath.map { $0 + [key] }
        default: return nil
        }
    }
}
