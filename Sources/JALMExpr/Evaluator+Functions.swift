import JALMWire

/// The built-in functions (docs/expr.md lists them). String searches are byte-wise on UTF-8, without
/// Unicode normalisation; `len` and `substr` count characters (grapheme clusters).
extension Evaluator {
    mutating func call(_ builtin: Builtin, _ args: [Node], at offset: Int) throws(ExprError) -> JSONValue {
        switch builtin {
        case .map, .filter, .any, .all:
            return try iterate(builtin, args, at: offset)
        case .coalesce:
            for arg in args {
                let value = try eval(arg)
                if !value.isNull { return value }
            }
            return .null
        default:
            var values: [JSONValue] = []
            for arg in args { values.append(try eval(arg)) }
            return try apply(builtin, values, at: offset)
        }
    }

    /// map / filter / any / all: the lambda runs once per element, each run paying its own steps.
    private mutating func iterate(_ builtin: Builtin, _ args: [Node], at offset: Int) throws(ExprError) -> JSONValue {
        let input = try eval(args[0])
        let items: [JSONValue]
        switch input {
        case .array(let a): items = a
        case .null: items = []
        default: throw fault("\(builtin.rawValue) needs an array, got \(input.typeName)", at: offset)
        }
        switch builtin {
        case .map:
            try budget.allocate(Budget.containerBytes(items.count), at: offset)
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try apply(args[1], to: item)) }
            return .array(out)
        case .filter:
            var out: [JSONValue] = []
            for item in items where try boolean(try apply(args[1], to: item), "filter's lambda", at: offset) {
                try budget.allocate(16, at: offset)
                out.append(item)
            }
            return .array(out)
        case .any:
            for item in items where try boolean(try apply(args[1], to: item), "any's lambda", at: offset) { return true }
            return false
        default:
            for item in items where !(try boolean(try apply(args[1], to: item), "all's lambda", at: offset)) { return false }
            return true
        }
    }

    private mutating func apply(_ builtin: Builtin, _ v: [JSONValue], at offset: Int) throws(ExprError) -> JSONValue {
        switch builtin {
        case .len:
            switch v[0] {
            case .string(let s):
                try budget.step(s.utf8.count / 16, at: offset)
                return .int(Int64(s.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            case .null: return .int(0)
            default: throw fault("len needs a string, array or object, got \(v[0].typeName)", at: offset)
            }
        case .lower, .upper:
            let s = try string(v[0], builtin, at: offset)
            try budget.allocate(s.utf8.count, at: offset)
            return .string(builtin == .lower ? s.lowercased() : s.uppercased())
        case .trim:
            let s = try string(v[0], builtin, at: offset)
            var sub = Substring(s)
            while sub.first?.isWhitespace == true { sub = sub.dropFirst() }
            while sub.last?.isWhitespace == true { sub = sub.dropLast() }
            try budget.allocate(sub.utf8.count, at: offset)
            return .string(String(sub))
        case .contains:
            switch v[0] {
            case .string(let s):
                let needle = try string(v[1], builtin, at: offset)
                try budget.step(s.utf8.count / 16, at: offset)
                return .bool(Self.find(Array(needle.utf8), in: Array(s.utf8), from: 0) != nil)
            case .array(let a):
                for item in a where try equal(item, v[1], at: offset) { return true }
                return false
            case .object(let o):
                return .bool(o[try string(v[1], builtin, at: offset)] != nil)
            case .null: return false
            default: throw fault("contains needs a string, array or object, got \(v[0].typeName)", at: offset)
            }
        case .starts_with, .ends_with:
            let s = Array(try string(v[0], builtin, at: offset).utf8)
            let p = Array(try string(v[1], builtin, at: offset).utf8)
            guard p.count <= s.count else { return false }
            return .bool(builtin == .starts_with ? s.prefix(p.count).elementsEqual(p) : s.suffix(p.count).elementsEqual(p))
        case .split:
            return try split(try string(v[0], builtin, at: offset), by: try string(v[1], builtin, at: offset), at: offset)
        case .join:
            guard case .array(let items) = v[0] else { throw fault("join needs an array, got \(v[0].typeName)", at: offset) }
            let sep = try string(v[1], builtin, at: offset)
            try budget.step(items.count, at: offset)
            var parts: [String] = []
            for item in items {
                let part: String
                switch item {
                case .string(let s): part = s
                case .int, .double, .bool: part = JSONWriter.string(item)
                default: throw fault("join joins strings, numbers and booleans, got \(item.typeName)", at: offset)
                }
                try budget.allocate(part.utf8.count + sep.utf8.count, at: offset)
                parts.append(part)
            }
            return .string(parts.joined(separator: sep))
        case .substr:
            let s = try string(v[0], builtin, at: offset)
            guard let start = v[1].intValue, start >= 0 else { throw fault("substr's start must be an integer >= 0", at: offset) }
            let length: Int64?
            if v.count > 2 {
                guard let n = v[2].intValue, n >= 0 else { throw fault("substr's length must be an integer >= 0", at: offset) }
                length = n
            } else {
                length = nil
            }
            try budget.step(s.utf8.count / 16, at: offset)
            let chars = s.dropFirst(Int(min(start, Int64(s.count))))
            let sub = length.map { chars.prefix(Int(min($0, Int64(chars.count)))) } ?? chars
            try budget.allocate(sub.utf8.count, at: offset)
            return .string(String(sub))
        case .replace:
            return try replace(try string(v[0], builtin, at: offset), try string(v[1], builtin, at: offset),
                               try string(v[2], builtin, at: offset), at: offset)
        case .string:
            if case .string = v[0] { return v[0] }
            try budget.step(Self.nodeCount(v[0], limit: budget.limits.maxSteps), at: offset)
            let text = JSONWriter.string(v[0], sortedKeys: true)
            try budget.allocate(text.utf8.count, at: offset)
            return .string(text)
        case .number:
            switch v[0] {
            case .int, .double: return v[0]
            case .string(let s):
                if let n = Int64(s) { return .int(n) }
                if let d = Double(s), d.isFinite, !s.isEmpty, s.utf8.allSatisfy({ $0 > 0x20 }) { return .double(d) }
                throw fault("number: \"\(s.prefix(40))\" is not a number", at: offset)
            default: throw fault("number needs a string or a number, got \(v[0].typeName)", at: offset)
            }
        case .abs:
            switch v[0] {
            case .int(let n) where n != .min: return .int(Swift.abs(n))
            case .int(let n): return .double(-Double(n))
            case .double(let d): return .double(Swift.abs(d))
            default: throw fault("abs needs a number, got \(v[0].typeName)", at: offset)
            }
        case .floor, .ceil, .round:
            if case .int = v[0] { return v[0] }
            guard case .double(let d) = v[0] else { throw fault("\(builtin.rawValue) needs a number, got \(v[0].typeName)", at: offset) }
            let r = builtin == .floor ? d.rounded(.down) : builtin == .ceil ? d.rounded(.up) : d.rounded()
            return Swift.abs(r) < 9.0e15 ? .int(Int64(r)) : .double(r)
        case .type:
            return .string(v[0].typeName)
        case .keys, .values:
            guard case .object(let o) = v[0] else { throw fault("\(builtin.rawValue) needs an object, got \(v[0].typeName)", at: offset) }
            try budget.step(o.count, at: offset)
            try budget.allocate(Budget.containerBytes(o.count), at: offset)
            let sorted = o.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            return .array(builtin == .keys ? sorted.map { .string($0) } : sorted.map { o[$0]! })
        case .sum:
            let items = try numbers(v[0], builtin, at: offset)
            var total: JSONValue = .int(0)
            for item in items { total = try binary(.add, total, item, at: offset) }
            return total
        case .min, .max:
            let items: [JSONValue]
            if v.count == 1 {
                guard case .array(let a) = v[0] else {
                    throw fault("\(builtin.rawValue) of one argument needs an array, got \(v[0].typeName)", at: offset)
                }
                items = a
            } else {
                items = v
            }
            try budget.step(items.count, at: offset)
            guard var best = items.first else { return .null }
            for item in items.dropFirst() {
                let order = try compare(item, best, builtin.rawValue, at: offset)
                if builtin == .min ? order < 0 : order > 0 { best = item }
            }
            return best
        case .sort:
            guard case .array(let a) = v[0] else { throw fault("sort needs an array, got \(v[0].typeName)", at: offset) }
            var log = 1
            while (1 << log) < a.count { log += 1 }
            try budget.step(a.count * log, at: offset)
            try budget.allocate(Budget.containerBytes(a.count), at: offset)
            let allNumbers = a.allSatisfy { $0.doubleValue != nil }
            let allStrings = a.allSatisfy { $0.stringValue != nil }
            guard allNumbers || allStrings else { throw fault("sort needs an array of only numbers or only strings", at: offset) }
            if allNumbers { return .array(a.sorted { $0.doubleValue! < $1.doubleValue! }) }
            return .array(a.sorted { $0.stringValue!.unicodeScalars.lexicographicallyPrecedes($1.stringValue!.unicodeScalars) })
        case .map, .filter, .any, .all, .coalesce:
            throw fault("\(builtin.rawValue) is evaluated lazily", at: offset)
        }
    }

    private func string(_ value: JSONValue, _ builtin: Builtin, at offset: Int) throws(ExprError) -> String {
        guard case .string(let s) = value else {
            throw fault("\(builtin.signature): expected a string, got \(value.typeName)", at: offset)
        }
        return s
    }

    private mutating func numbers(_ value: JSONValue, _ builtin: Builtin, at offset: Int) throws(ExprError) -> [JSONValue] {
        guard case .array(let a) = value else { throw fault("\(builtin.rawValue) needs an array, got \(value.typeName)", at: offset) }
        try budget.step(a.count, at: offset)
        for item in a where item.doubleValue == nil {
            throw fault("\(builtin.rawValue) needs an array of numbers, found \(item.typeName)", at: offset)
        }
        return a
    }

    private mutating func split(_ s: String, by sep: String, at offset: Int) throws(ExprError) -> JSONValue {
        let bytes = Array(s.utf8)
        try budget.step(bytes.count / 16 + 1, at: offset)
        if sep.isEmpty {
            try budget.allocate(Budget.containerBytes(s.count) + bytes.count, at: offset)
            return .array(s.map { .string(String($0)) })
        }
        let needle = Array(sep.utf8)
        var parts: [JSONValue] = []
        var from = 0
        while let hit = Self.find(needle, in: bytes, from: from) {
            try budget.allocate(16 + hit - from, at: offset)
            parts.append(.string(String(decoding: bytes[from..<hit], as: UTF8.self)))
            from = hit + needle.count
        }
        try budget.allocate(32 + bytes.count - from, at: offset)
        parts.append(.string(String(decoding: bytes[from...], as: UTF8.self)))
        return .array(parts)
    }

    private mutating func replace(_ s: String, _ from: String, _ to: String, at offset: Int) throws(ExprError) -> JSONValue {
        guard !from.isEmpty else { throw fault("replace's \"from\" must not be empty", at: offset) }
        let bytes = Array(s.utf8)
        let needle = Array(from.utf8)
        let replacement = Array(to.utf8)
        try budget.step(bytes.count / 16 + 1, at: offset)
        var out: [UInt8] = []
        var start = 0
        while let hit = Self.find(needle, in: bytes, from: start) {
            try budget.allocate(hit - start + replacement.count, at: offset)
            out.append(contentsOf: bytes[start..<hit])
            out.append(contentsOf: replacement)
            start = hit + needle.count
        }
        try budget.allocate(bytes.count - start, at: offset)
        out.append(contentsOf: bytes[start...])
        return .string(String(decoding: out, as: UTF8.self))
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty else { return from <= haystack.count ? from : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = from
        let first = needle[0]
        while i + needle.count <= haystack.count {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Nodes in `value`, counting at most to `limit` (so that pricing a huge document is itself cheap).
    static func nodeCount(_ value: JSONValue, limit: Int) -> Int {
        var count = 0
        var stack = [value]
        while let v = stack.popLast(), count <= limit {
            count += 1
            switch v {
            case .array(let a): stack.append(contentsOf: a)
            case .object(let o): stack.append(contentsOf: o.values)
            default: break
            }
        }
        return count
    }
}
