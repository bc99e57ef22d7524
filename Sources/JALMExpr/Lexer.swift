import JALMWire

/// Splits an expression's UTF-8 source into tokens. Pure; every fault names its byte offset.
struct Lexer {
    let source: [UInt8]
    private var i = 0

    init(_ source: [UInt8]) { self.source = source }

    /// Longest symbols first, so that `==` is not read as `=` `=`.
    private static let symbols: [String] = [
        "=>", "==", "!=", "<=", ">=", "&&", "||",
        "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}",
    ]
    private static let symbolBytes: [[UInt8]] = symbols.map { Array($0.utf8) }

    mutating func tokens() throws(ExprError) -> [Token] {
        var out: [Token] = []
        while true {
            let token = try next()
            out.append(token)
            if token.kind == .end { return out }
        }
    }

    private mutating func next() throws(ExprError) -> Token {
        skipSpace()
        guard i < source.count else { return Token(kind: .end, offset: i) }
        let start = i
        let c = source[i]
        if isDigit(c) { return try number(start) }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { return Token(kind: .string(try string(quote: c)), offset: start) }
        if c == UInt8(ascii: "$") {
            i += 1
            return Token(kind: .dollar, offset: start)
        }
        if isIdentifierStart(c) {
            while i < source.count && isIdentifierPart(source[i]) { i += 1 }
            return Token(kind: .identifier(String(decoding: source[start..<i], as: UTF8.self)), offset: start)
        }
        for (n, bytes) in Self.symbolBytes.enumerated() where matches(bytes) {
            i += bytes.count
            return Token(kind: .symbol(Self.symbols[n]), offset: start)
        }
        throw fault("unexpected character \(describe(at: start))", at: start)
    }

    private mutating func skipSpace() {
        while i < source.count, [0x20, 0x09, 0x0A, 0x0D].contains(source[i]) { i += 1 }
    }

    private func matches(_ bytes: [UInt8]) -> Bool {
        guard i + bytes.count <= source.count else { return false }
        for k in 0..<bytes.count where source[i + k] != bytes[k] { return false }
        return true
    }

    /// An integer (`42`) or a number with a fraction or exponent (`1.5`, `2e3`). A sign is an operator.
    private mutating func number(_ start: Int) throws(ExprError) -> Token {
        while i < source.count && isDigit(source[i]) { i += 1 }
        var isDouble = false
        if i + 1 < source.count && source[i] == UInt8(ascii: ".") && isDigit(source[i + 1]) {
            isDouble = true
            i += 1
            while i < source.count && isDigit(source[i]) { i += 1 }
        }
        if i < source.count && (source[i] | 0x20) == UInt8(ascii: "e") {
            var j = i + 1
            if j < source.count && (source[j] == UInt8(ascii: "+") || source[j] == UInt8(ascii: "-")) { j += 1 }
            if j < source.count && isDigit(source[j]) {
                isDouble = true
                i = j
                while i < source.count && isDigit(source[i]) { i += 1 }
            }
        }
        if i < source.count && isIdentifierStart(source[i]) {
            throw fault("a number cannot be followed by \(describe(at: i))", at: i)
        }
        let text = String(decoding: source[start..<i], as: UTF8.self)
        if !isDouble, let n = Int64(text) { return Token(kind: .int(n), offset: start) }
        guard let d = Double(text), d.isFinite else { throw fault("number \(text) is out of range", at: start) }
        return Token(kind: .double(d), offset: start)
    }

    /// A string in `"..."` or `'...'` with the escapes of JSON plus `\'`.
    private mutating func string(quote: UInt8) throws(ExprError) -> String {
        let start = i
        i += 1
        var bytes: [UInt8] = []
        while true {
            guard i < source.count else { throw fault("unterminated string", at: start) }
            let c = source[i]
            if c == quote {
                i += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                let escapeAt = i
                i += 1
                guard i < source.count else { throw fault("unterminated string", at: start) }
                let e = source[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): bytes.append(e)
                case UInt8(ascii: "u"):
                    guard i + 4 <= source.count,
                          let v = UInt32(String(decoding: source[i..<i + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v)
                    else { throw fault("\\u needs 4 hex digits naming a Unicode scalar", at: escapeAt) }
                    i += 4
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fault("unknown escape \\\(String(decoding: [e], as: UTF8.self))", at: escapeAt)
                }
                continue
            }
            if c < 0x20 { throw fault("a control character must be escaped in a string", at: i) }
            bytes.append(c)
            i += 1
        }
    }

    private func describe(at offset: Int) -> String {
        let c = source[offset]
        if c >= 0x21 && c < 0x7F { return "\"\(String(decoding: [c], as: UTF8.self))\"" }
        return "byte 0x\(String(c, radix: 16))"
    }

    private func fault(_ reason: String, at offset: Int) -> ExprError {
        ExprError(.invalidInput, reason, position: .locate(offset, in: source))
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private func isIdentifierStart(_ c: UInt8) -> Bool {
        (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_")
    }
    private func isIdentifierPart(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }
}
