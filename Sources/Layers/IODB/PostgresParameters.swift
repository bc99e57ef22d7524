import JALMWire

/// PostgreSQL's placeholders are `$1…$n`; `:name` placeholders are rewritten to them here, by a scanner
/// that knows where SQL text is *not* code (quoted strings, quoted identifiers, comments, dollar-quoted
/// bodies, `::` casts), so a `:word` inside a literal stays text. The values themselves are never put in
/// the SQL: they travel separately in the bind message.
enum PostgresParameters {
    /// What the scanner found: the highest `$n`, and each `:name` with its byte range.
    struct Scan: Equatable {
        var maxPositional = 0
        var named: [(name: String, range: Range<Int>)] = []

        static func == (a: Scan, b: Scan) -> Bool {
            a.maxPositional == b.maxPositional && a.named.map(\.name) == b.named.map(\.name)
                && a.named.map(\.range) == b.named.map(\.range)
        }
    }

    /// The SQL to send and the values in `$n` order; a count or name mismatch is `invalid_input`.
    static func prepare(_ statement: Statement) throws(CallFailure) -> (sql: String, values: [BindValue]) {
        let scan = Self.scan(statement.sql)
        if scan.maxPositional > 0 && !scan.named.isEmpty {
            throw mismatch("the statement mixes $n and :name placeholders; use one kind")
        }
        switch statement.parameters {
        case .positional(let values):
            guard scan.named.isEmpty else {
                throw mismatch("the statement uses :name placeholders but params is an array; give params as an object")
            }
            guard values.count == scan.maxPositional else {
                throw mismatch("the statement has \(scan.maxPositional) placeholder(s) ($1…$\(scan.maxPositional)) but params has \(values.count) value(s)")
            }
            return (statement.sql, values)
        case .named(let byName):
            if scan.named.isEmpty && scan.maxPositional > 0 {
                throw mismatch("the statement uses $n placeholders but params is an object; give params as an array")
            }
            return try rewrite(statement.sql, scan: scan, byName: byName)
        }
    }

    private static func rewrite(_ sql: String, scan: Scan, byName: [String: BindValue]) throws(CallFailure) -> (sql: String, values: [BindValue]) {
        let used = Set(scan.named.map(\.name))
        if let missing = scan.named.map(\.name).first(where: { byName[$0] == nil }) {
            throw mismatch("the statement uses :\(missing) but params has no \"\(missing)\"")
        }
        if let extra = byName.keys.sorted().first(where: { !used.contains($0) }) {
            throw mismatch("params has \"\(extra)\" but the statement has no :\(extra)")
        }
        var index: [String: Int] = [:]
        var values: [BindValue] = []
        var out: [UInt8] = []
        let bytes = Array(sql.utf8)
        var at = 0
        for (name, range) in scan.named {
            out += bytes[at..<range.lowerBound]
            let n: Int
            if let known = index[name] { n = known } else {
                values.append(byName[name]!)
                n = values.count
                index[name] = n
            }
            out += Array("$\(n)".utf8)
            at = range.upperBound
        }
        out += bytes[at...]
        return (String(decoding: out, as: UTF8.self), values)
    }

    static func mismatch(_ message: String) -> CallFailure {
        CallFailure(.invalidInput, message, details: ["reason": "parameter_mismatch", "pointer": "/params"])
    }

    /// Finds placeholders outside literals, identifiers and comments.
    static func scan(_ sql: String) -> Scan {
        let s = Array(sql.utf8)
        var result = Scan()
        var i = 0
        func isIdentStart(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80 }
        func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c == 0x24 }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < s.count {
            let c = s[i]
            let prev: UInt8? = i > 0 ? s[i - 1] : nil
            switch c {
            case UInt8(ascii: "'"):
                // E'...' strings take backslash escapes; all strings take '' as a quote.
                let backslashes = prev.map { ($0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e")) && (i < 2 || !isIdent(s[i - 2])) } ?? false
                i += 1
                while i < s.count {
                    if backslashes && s[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if s[i] == UInt8(ascii: "'") {
                        if i + 1 < s.count && s[i + 1] == UInt8(ascii: "'") { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "\""):
                i += 1
                while i < s.count {
                    if s[i] == UInt8(ascii: "\"") {
                        if i + 1 < s.count && s[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "-") where i + 1 < s.count && s[i + 1] == UInt8(ascii: "-"):
                while i < s.count && s[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "/") where i + 1 < s.count && s[i + 1] == UInt8(ascii: "*"):
                var depth = 1
                i += 2
                while i < s.count && depth > 0 {
                    if s[i] == UInt8(ascii: "/") && i + 1 < s.count && s[i + 1] == UInt8(ascii: "*") { depth += 1; i += 2 }
                    else if s[i] == UInt8(ascii: "*") && i + 1 < s.count && s[i + 1] == UInt8(ascii: "/") { depth -= 1; i += 2 }
                    else { i += 1 }
                }
            case UInt8(ascii: "$") where prev.map(isIdent) != true:
                var j = i + 1
                if j < s.count && isDigit(s[j]) {
                    var n = 0
                    while j < s.count && isDigit(s[j]) { n = min(n * 10 + Int(s[j] - 0x30), 1_000_000); j += 1 }
                    result.maxPositional = max(result.maxPositional, n)
                    i = j
                    continue
                }
                // A dollar quote: $tag$ … $tag$ (the tag may be empty).
                while j < s.count && isIdent(s[j]) && s[j] != UInt8(ascii: "$") { j += 1 }
                guard j < s.count && s[j] == UInt8(ascii: "$") else { i += 1; continue }
                let tag = Array(s[i...j])
                var k = j + 1
                var closed = false
                while k + tag.count <= s.count {
                    if s[k] == UInt8(ascii: "$") && Array(s[k..<(k + tag.count)]) == tag { closed = true; break }
                    k += 1
                }
                i = closed ? k + tag.count : s.count
            case UInt8(ascii: ":"):
                if i + 1 < s.count && s[i + 1] == UInt8(ascii: ":") { i += 2; continue }
                if i + 1 < s.count && isIdentStart(s[i + 1]) && s[i + 1] < 0x80 && prev != UInt8(ascii: ":")
                    && prev.map(isIdent) != true {
                    var j = i + 1
                    while j < s.count && (isIdent(s[j]) && s[j] != UInt8(ascii: "$")) && s[j] < 0x80 { j += 1 }
                    result.named.append((String(decoding: s[(i + 1)..<j], as: UTF8.self), i..<j))
                    i = j
                    continue
                }
                i += 1
            default:
                if isIdent(c) {
                    // Skip a whole word, so that `a$1` or `x:y` inside a word is not read as a placeholder.
                    while i < s.count && isIdent(s[i]) { i += 1 }
                    continue
                }
                i += 1
            }
        }
        return result
    }
}
