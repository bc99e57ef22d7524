import JALMWire

extension Evaluator {
    mutating func binary(_ op: BinaryOperator, _ l: JSONValue, _ r: JSONValue, at offset: Int) throws(ExprError)
        -> JSONValue
    {
        switch op {
        case .equal: return .bool(try equal(l, r, at: offset))
        case .notEqual: return .bool(!(try equal(l, r, at: offset)))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order = try compare(l, r, op.rawValue, at: offset)
            switch op {
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .add:
            switch (l, r) {
            case (.string(let a), .string(let b)):
                try budget.allocate(a.utf8.count + b.utf8.count, at: offset)
                return .string(a + b)
            case (.array(let a), .array(let b)):
                try budget.allocate(Budget.containerBytes(a.count + b.count), at: offset)
                try budget.step(a.count + b.count, at: offset)
                return .array(a + b)
            default:
                return try arithmetic(op, l, r, at: offset)
            }
        case .subtract, .multiply, .divide, .remainder:
            return try arithmetic(op, l, r, at: offset)
        }
    }

    /// Integers stay integers (overflow is an error, not a wrap); a double on either side makes a double.
    /// `/` of two integers is an integer when exact, else a double. Division by zero is an error: JSON
    /// has no infinity.
    private func arithmetic(_ op: BinaryOperator, _ l: JSONValue, _ r: JSONValue, at offset: Int) throws(ExprError)
        -> JSONValue
    {
        if case .int(let a) = l, case .int(let b) = r {
            let result: (Int64, Bool)
            switch op {
            case .add: result = a.addingReportingOverflow(b)
            case .subtract: result = a.subtractingReportingOverflow(b)
            case .multiply: result = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { throw fault("division by zero", at: offset) }
                if a % b == 0, !(a == .min && b == -1) { return .int(a / b) }
                return .double(Double(a) / Double(b))
            default:
                guard b != 0 else { throw fault("remainder of a division by zero", at: offset) }
                if a == .min && b == -1 { return .int(0) }
                return .int(a % b)
            }
            guard !result.1 else { throw fault("integer overflow in \(op.rawValue)", at: offset) }
            return .int(result.0)
        }
        guard let a = l.doubleValue, let b = r.doubleValue else {
            let hint = op == .add ? "; join strings with string(x) + \"...\" or join()" : ""
            throw fault("\(op.rawValue) needs two numbers, got \(l.typeName) and \(r.typeName)\(hint)", at: offset)
        }
        let value: Double
        switch op {
        case .add: value = a + b
        case .subtract: value = a - b
        case .multiply: value = a * b
        case .divide:
            guard b != 0 else { throw fault("division by zero", at: offset) }
            value = a / b
        default:
            guard b != 0 else { throw fault("remainder of a division by zero", at: offset) }
            value = a.truncatingRemainder(dividingBy: b)
        }
        guard value.isFinite else { throw fault("\(op.rawValue) gives a number JSON cannot hold", at: offset) }
        return .double(value)
    }

    /// Deep equality, `1 == 1.0`, key order ignored; values of different types are unequal. Each node
    /// compared is a step, so comparing two large documents is paid for.
    mutating func equal(_ l: JSONValue, _ r: JSONValue, at offset: Int) throws(ExprError) -> Bool {
        try budget.step(at: offset)
        switch (l, r) {
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double): return l.doubleValue == r.doubleValue
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            for k in a.indices where !(try equal(a[k], b[k], at: offset)) { return false }
            return true
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let other = b[key], try equal(value, other, at: offset) else { return false }
            }
            return true
        default:
            return l == r
        }
    }

    /// -1, 0 or 1 for two numbers or two strings (strings by Unicode scalar values, like `sort`).
    func compare(_ l: JSONValue, _ r: JSONValue, _ op: String, at offset: Int) throws(ExprError) -> Int {
        switch (l, r) {
        case (.int(let a), .int(let b)): return a < b ? -1 : a == b ? 0 : 1
        case (.string(let a), .string(let b)):
            if a == b { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : 1
        default:
            guard let a = l.doubleValue, let b = r.doubleValue else {
                throw fault("\(op) compares two numbers or two strings, got \(l.typeName) and \(r.typeName)", at: offset)
            }
            return a < b ? -1 : a == b ? 0 : 1
        }
    }
}
