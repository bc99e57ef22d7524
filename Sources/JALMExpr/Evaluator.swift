import JALMWire

/// Walks a parsed expression over one data value. Every node costs a step; functions also pay per
/// element they walk and per byte they build (Budget). Types are strict: `&&` wants booleans, `+` wants
/// two numbers, two strings or two arrays, and a wrong type is `invalid_input` at the operator.
struct Evaluator {
    var budget: Budget
    let root: JSONValue
    /// Lambda parameters bound now, innermost last.
    var bindings: [(String, JSONValue)] = []

    init(root: JSONValue, budget: Budget) {
        self.root = root
        self.budget = budget
    }

    func fault(_ reason: String, at offset: Int) -> ExprError {
        ExprError(.invalidInput, reason, position: .locate(offset, in: budget.source))
    }

    mutating func eval(_ node: Node) throws(ExprError) -> JSONValue {
        try budget.step(at: node.offset)
        switch node.kind {
        case .literal(let value):
            return value
        case .root:
            return root
        case .variable(let name):
            // Parse time checked the name is in scope.
            return bindings.last { $0.0 == name }?.1 ?? .null
        case .member(let base, let key):
            return try member(try eval(base), key, at: node.offset)
        case .index(let base, let indexNode):
            let value = try eval(base)
            let index = try eval(indexNode)
            return try subscriptValue(value, index, at: node.offset)
        case .array(let items):
            try budget.allocate(Budget.containerBytes(items.count), at: node.offset)
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try eval(item)) }
            return .array(out)
        case .object(let members):
            try budget.allocate(Budget.containerBytes(members.count) + members.reduce(0) { $0 + $1.0.utf8.count },
                                at: node.offset)
            var out: [String: JSONValue] = [:]
            for (key, valueNode) in members { out[key] = try eval(valueNode) }
            return .object(out)
        case .not(let operand):
            return .bool(!(try boolean(try eval(operand), "!", at: node.offset)))
        case .negate(let operand):
            switch try eval(operand) {
            case .int(let n) where n != .min: return .int(-n)
            case .int(let n): return .double(-Double(n))
            case .double(let d): return .double(-d)
            case let v: throw fault("unary - needs a number, got \(v.typeName)", at: node.offset)
            }
        case .and(let l, let r):
            guard try boolean(try eval(l), "&&", at: node.offset) else { return .bool(false) }
            return .bool(try boolean(try eval(r), "&&", at: node.offset))
        case .or(let l, let r):
            if try boolean(try eval(l), "||", at: node.offset) { return .bool(true) }
            return .bool(try boolean(try eval(r), "||", at: node.offset))
        case .conditional(let c, let a, let b):
            return try boolean(try eval(c), "? :", at: node.offset) ? try eval(a) : try eval(b)
        case .binary(let op, let l, let r):
            return try binary(op, try eval(l), try eval(r), at: node.offset)
        case .call(let builtin, let args):
            return try call(builtin, args, at: node.offset)
        case .lambda:
            throw fault("a lambda is not a value", at: node.offset)
        }
    }

    func boolean(_ value: JSONValue, _ op: String, at offset: Int) throws(ExprError) -> Bool {
        guard case .bool(let b) = value else {
            throw fault("\(op) needs a boolean, got \(value.typeName); compare explicitly, e.g. x != null", at: offset)
        }
        return b
    }

    /// `.key`: null on a missing key or on null (so `$.a.b` is null when `a` is absent); an error on
    /// anything else that has no keys.
    func member(_ value: JSONValue, _ key: String, at offset: Int) throws(ExprError) -> JSONValue {
        switch value {
        case .object(let o): return o[key] ?? .null
        case .null: return .null
        default: throw fault("cannot read key \"\(key)\" of a value of type \(value.typeName)", at: offset)
        }
    }

    /// `[i]` on arrays (negative counts from the end, out of range is null) and strings (one character);
    /// `["key"]` on objects.
    func subscriptValue(_ value: JSONValue, _ index: JSONValue, at offset: Int) throws(ExprError) -> JSONValue {
        switch (value, index) {
        case (.object, .string(let key)), (.null, .string(let key)):
            return try member(value, key, at: offset)
        case (.array(let a), _):
            guard let i = index.intValue else { throw fault("an array index must be an integer, got \(index.typeName)", at: offset) }
            let k = i < 0 ? Int64(a.count) + i : i
            return k >= 0 && k < Int64(a.count) ? a[Int(k)] : .null
        case (.null, _):
            return .null
        default:
            throw fault("cannot index a value of type \(value.typeName) with \(index.typeName)", at: offset)
        }
    }

    /// Runs a lambda's body with its parameter bound to `value`.
    mutating func apply(_ lambda: Node, to value: JSONValue) throws(ExprError) -> JSONValue {
        guard case .lambda(let name, let body) = lambda.kind else { return try eval(lambda) }
        bindings.append((name, value))
        defer { bindings.removeLast() }
        return try eval(body)
    }
}
