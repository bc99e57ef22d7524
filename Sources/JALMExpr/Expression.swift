import JALMWire

/// A parsed expression of the `expr` language (docs/expr.md): parse once, evaluate over many values.
///
/// Pure and bounded: no I/O, no clock, no randomness; parsing obeys `max_source_bytes` and `max_depth`,
/// each evaluation `max_steps` and `max_memory_bytes`. The same source over the same data gives the
/// same value or the same error.
public struct Expression: Sendable, Hashable, CustomStringConvertible {
    /// The source as written.
    public let source: String
    let bytes: [UInt8]
    let tree: Node

    /// Parses `source`; a fault is `invalid_input` with its position, an oversize or overdeep source is
    /// `resource_exhausted` naming the limit.
    /// `globals`: bare names that read `$.name` (`vars.x` for `$.vars.x`), for templates.
    public init(parsing source: String, limits: ExprLimits = .standard, globals: Set<String> = []) throws(ExprError) {
        let bytes = Array(source.utf8)
        guard bytes.count <= limits.maxSourceBytes else {
            throw ExprError(.resourceExhausted,
                            "expression is \(bytes.count) bytes, more than max_source_bytes (\(limits.maxSourceBytes))",
                            limit: "max_source_bytes")
        }
        var lexer = Lexer(bytes)
        var parser = Parser(source: bytes, tokens: try lexer.tokens(), limits: limits, globals: globals)
        self.tree = try parser.parse()
        self.source = source
        self.bytes = bytes
    }

    /// The value of the expression with `$` bound to `data`.
    public func evaluate(over data: JSONValue, limits: ExprLimits = .standard) throws(ExprError) -> JSONValue {
        try evaluateWithUsage(over: data, limits: limits).value
    }

    /// The value and what computing it spent.
    public func evaluateWithUsage(over data: JSONValue, limits: ExprLimits = .standard) throws(ExprError)
        -> (value: JSONValue, usage: ExprUsage)
    {
        var evaluator = Evaluator(root: data, budget: Budget(limits: limits, source: bytes))
        let value = try evaluator.eval(tree)
        return (value, ExprUsage(steps: evaluator.budget.steps, memoryBytes: evaluator.budget.memoryBytes))
    }

    /// Every constant path below `$` the expression reads, e.g. `[["steps", "a", "output"]]` for
    /// `$.steps.a.output.n > 1`: lets a caller check references before evaluating (capsule validation).
    public var rootPaths: [[String]] {
        var out: [[String]] = []
        var stack = [tree]
        while let node = stack.popLast() {
            if let path = node.rootPath {
                out.append(path)
                // Index expressions inside the path may hold paths of their own.
                var n = node
                while true {
                    if case .member(let base, _) = n.kind { n = base; continue }
                    if case .index(let base, let index) = n.kind { stack.append(index); n = base; continue }
                    break
                }
                continue
            }
            stack.append(contentsOf: node.children)
        }
        return out
    }

    public static func == (a: Expression, b: Expression) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
    public var description: String { source }
}
