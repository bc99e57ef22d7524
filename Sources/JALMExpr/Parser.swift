import JALMWire

/// Recursive descent over the tokens, one function per precedence level (docs/expr.md has the grammar).
/// Names are resolved here: an unknown function, a wrong argument count, a lambda out of place or a
/// name that is no lambda parameter in scope are parse errors with the position of the fault.
struct Parser {
    private let source: [UInt8]
    private let tokens: [Token]
    private let limits: ExprLimits
    private var i = 0
    /// Parser recursion, bounded like the tree (`((((1))))` nests without adding nodes).
    private var nesting = 0
    /// Lambda parameters in scope, innermost last.
    private var scope: [String] = []
    /// Bare names that stand for `$.name` (templates read `vars.x` rather than `$.vars.x`).
    private let globals: Set<String>

    static let keywords: Set<String> = ["true", "false", "null", "and", "or", "not"]

    init(source: [UInt8], tokens: [Token], limits: ExprLimits, globals: Set<String> = []) {
        self.source = source
        self.tokens = tokens
        self.limits = limits
        self.globals = globals
    }

    mutating func parse() throws(ExprError) -> Node {
        let node = try expression()
        guard case .end = peek.kind else { throw fault("unexpected \(peek.text) after a complete expression", at: peek) }
        return node
    }

    private var peek: Token { tokens[i] }

    private mutating func advance() -> Token {
        defer { if i < tokens.count - 1 { i += 1 } }
        return tokens[i]
    }

    private func isSymbol(_ s: String) -> Bool { peek.kind == .symbol(s) }
    private func isWord(_ w: String) -> Bool { peek.kind == .identifier(w) }

    private mutating func expect(_ s: String, _ context: String) throws(ExprError) {
        guard isSymbol(s) else { throw fault("expected \"\(s)\" \(context), found \(peek.text)", at: peek) }
        _ = advance()
    }

    private func fault(_ reason: String, at token: Token) -> ExprError {
        ExprError(.invalidInput, reason, position: .locate(token.offset, in: source))
    }

    /// A node, its depth checked against `max_depth`.
    private func make(_ kind: Node.Kind, at offset: Int) throws(ExprError) -> Node {
        var node = Node(kind: kind, offset: offset, depth: 1)
        node.depth = 1 + (node.children.map(\.depth).max() ?? 0)
        guard node.depth <= limits.maxDepth else {
            throw ExprError(.resourceExhausted, "expression nests deeper than max_depth (\(limits.maxDepth))",
                            position: .locate(offset, in: source), limit: "max_depth")
        }
        return node
    }

    // MARK: precedence levels, loosest first

    private mutating func expression() throws(ExprError) -> Node {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= limits.maxDepth else {
            throw ExprError(.resourceExhausted, "expression nests deeper than max_depth (\(limits.maxDepth))",
                            position: .locate(peek.offset, in: source), limit: "max_depth")
        }
        let condition = try or()
        guard isSymbol("?") else { return condition }
        let question = advance()
        let then = try expression()
        try expect(":", "between the branches of \"? :\"")
        let otherwise = try expression()
        return try make(.conditional(condition, then, otherwise), at: question.offset)
    }

    private mutating func or() throws(ExprError) -> Node {
        var left = try and()
        while isSymbol("||") || isWord("or") {
            let op = advance()
            left = try make(.or(left, try and()), at: op.offset)
        }
        return left
    }

    private mutating func and() throws(ExprError) -> Node {
        var left = try equality()
        while isSymbol("&&") || isWord("and") {
            let op = advance()
            left = try make(.and(left, try equality()), at: op.offset)
        }
        return left
    }

    /// Equality and comparison do not chain: `a == b == c` and `a < b < c` are refused.
    private mutating func equality() throws(ExprError) -> Node {
        let left = try comparison()
        guard let op = binaryOperator(["==", "!="]) else { return left }
        let token = advance()
        let node = try make(.binary(op, left, try comparison()), at: token.offset)
        if binaryOperator(["==", "!="]) != nil {
            throw fault("comparisons do not chain; combine them with &&", at: peek)
        }
        return node
    }

    private mutating func comparison() throws(ExprError) -> Node {
        let left = try additive()
        guard let op = binaryOperator(["<", "<=", ">", ">="]) else { return left }
        let token = advance()
        let node = try make(.binary(op, left, try additive()), at: token.offset)
        if binaryOperator(["<", "<=", ">", ">="]) != nil {
            throw fault("comparisons do not chain; combine them with &&", at: peek)
        }
        return node
    }

    private mutating func additive() throws(ExprError) -> Node {
        var left = try multiplicative()
        while let op = binaryOperator(["+", "-"]) {
            let token = advance()
            left = try make(.binary(op, left, try multiplicative()), at: token.offset)
        }
        return left
    }

    private mutating func multiplicative() throws(ExprError) -> Node {
        var left = try unary()
        while let op = binaryOperator(["*", "/", "%"]) {
            let token = advance()
            left = try make(.binary(op, left, try unary()), at: token.offset)
        }
        return left
    }

    private func binaryOperator(_ allowed: Set<String>) -> BinaryOperator? {
        guard case .symbol(let s) = peek.kind, allowed.contains(s) else { return nil }
        return BinaryOperator(rawValue: s)
    }

    private mutating func unary() throws(ExprError) -> Node {
        if isSymbol("!") || isWord("not") || isSymbol("-") {
            let op = advance()
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= limits.maxDepth else {
                throw ExprError(.resourceExhausted, "expression nests deeper than max_depth (\(limits.maxDepth))",
                                position: .locate(op.offset, in: source), limit: "max_depth")
            }
            let operand = try unary()
            if op.kind == .symbol("-") {
                // Fold a negative literal, so that -9223372036854775808 is no overflow and -2 no node.
                if case .literal(.int(let n)) = operand.kind, n != .min { return try make(.literal(.int(-n)), at: op.offset) }
                if case .literal(.double(let d)) = operand.kind { return try make(.literal(.double(-d)), at: op.offset) }
                return try make(.negate(operand), at: op.offset)
            }
            return try make(.not(operand), at: op.offset)
        }
        return try postfix()
    }

    private mutating func postfix() throws(ExprError) -> Node {
        var node = try primary()
        while true {
            if isSymbol(".") {
                let dot = advance()
                guard case .identifier(let name) = peek.kind else {
                    throw fault("expected a key name after \".\", found \(peek.text)", at: peek)
                }
                _ = advance()
                node = try make(.member(node, name), at: dot.offset)
            } else if isSymbol("[") {
                let open = advance()
                let index = try expression()
                try expect("]", "to close the index opened at offset \(open.offset)")
                node = try make(.index(node, index), at: open.offset)
            } else {
                return node
            }
        }
    }

    private mutating func primary() throws(ExprError) -> Node {
        let token = peek
        switch token.kind {
        case .int(let n):
            _ = advance()
            return try make(.literal(.int(n)), at: token.offset)
        case .double(let d):
            _ = advance()
            return try make(.literal(.double(d)), at: token.offset)
        case .string(let s):
            _ = advance()
            return try make(.literal(.string(s)), at: token.offset)
        case .dollar:
            _ = advance()
            return try make(.root, at: token.offset)
        case .identifier(let name):
            _ = advance()
            switch name {
            case "true": return try make(.literal(.bool(true)), at: token.offset)
            case "false": return try make(.literal(.bool(false)), at: token.offset)
            case "null": return try make(.literal(.null), at: token.offset)
            default: break
            }
            if isSymbol("(") { return try call(name, at: token) }
            if isSymbol("=>") { throw fault("a lambda (\(name) => ...) may only be an argument of map, filter, any or all", at: token) }
            if !scope.contains(name), globals.contains(name) {
                return try make(.member(try make(.root, at: token.offset), name), at: token.offset)
            }
            guard scope.contains(name) else {
                if Self.keywords.contains(name) { throw fault("unexpected \"\(name)\"", at: token) }
                throw fault("unknown name \"\(name)\"; data is reached from $ (e.g. $.\(name)), "
                    + "and names are bound only by lambdas", at: token)
            }
            return try make(.variable(name), at: token.offset)
        case .symbol("("):
            _ = advance()
            let inner = try expression()
            try expect(")", "to close the parenthesis at offset \(token.offset)")
            return inner
        case .symbol("["):
            _ = advance()
            var items: [Node] = []
            if !isSymbol("]") {
                repeat { items.append(try expression()) } while consume(",")
            }
            try expect("]", "to close the array opened at offset \(token.offset)")
            return try make(.array(items), at: token.offset)
        case .symbol("{"):
            _ = advance()
            var members: [(String, Node)] = []
            if !isSymbol("}") {
                repeat {
                    let keyToken = advance()
                    let key: String
                    switch keyToken.kind {
                    case .identifier(let k), .string(let k): key = k
                    default: throw fault("expected a key (a name or a string) in the object, found \(keyToken.text)", at: keyToken)
                    }
                    try expect(":", "after the object key")
                    members.append((key, try expression()))
                } while consume(",")
            }
            try expect("}", "to close the object opened at offset \(token.offset)")
            return try make(.object(members), at: token.offset)
        case .end:
            throw fault("the expression ends where a value was expected", at: token)
        default:
            throw fault("expected a value, found \(token.text)", at: token)
        }
    }

    private mutating func consume(_ s: String) -> Bool {
        guard isSymbol(s) else { return false }
        _ = advance()
        return true
    }

    private mutating func call(_ name: String, at token: Token) throws(ExprError) -> Node {
        guard let builtin = Builtin(rawValue: name) else {
            let names = Builtin.allCases.map(\.rawValue).sorted().joined(separator: ", ")
            throw fault("unknown function \"\(name)\"; functions are: \(names)", at: token)
        }
        _ = advance()  // "("
        var args: [Node] = []
        if !isSymbol(")") {
            repeat {
                let argToken = peek
                let isLambda: Bool
                if case .identifier = argToken.kind, tokens[min(i + 1, tokens.count - 1)].kind == .symbol("=>") {
                    isLambda = true
                } else {
                    isLambda = false
                }
                let wantsLambda = builtin.takesLambda(at: args.count)
                if isLambda != wantsLambda {
                    throw fault(wantsLambda
                        ? "argument \(args.count + 1) of \(name) must be a lambda: \(builtin.signature)"
                        : "\(name) takes no lambda as argument \(args.count + 1): \(builtin.signature)", at: argToken)
                }
                args.append(isLambda ? try lambda() : try expression())
            } while consume(",")
        }
        try expect(")", "to close the arguments of \(name)")
        let (lo, hi) = builtin.arity
        if args.count < lo || hi.map({ args.count > $0 }) == true {
            throw fault("\(name) takes \(hi == lo ? "\(lo)" : hi == nil ? "at least \(lo)" : "\(lo) to \(hi!)") "
                + "argument\(lo == 1 && hi == 1 ? "" : "s"), got \(args.count): \(builtin.signature)", at: token)
        }
        return try make(.call(builtin, args), at: token.offset)
    }

    private mutating func lambda() throws(ExprError) -> Node {
        let param = advance()
        guard case .identifier(let name) = param.kind, !Self.keywords.contains(name) else {
            throw fault("a lambda parameter must be a name that is not a keyword", at: param)
        }
        _ = advance()  // "=>"
        scope.append(name)
        defer { scope.removeLast() }
        let body = try expression()
        return try make(.lambda(name, body), at: param.offset)
    }
}
