import JALMCore
import JALMWire

/// Splits a string into literal text and `{{ expression }}` parts.
enum TemplateScanner {
    enum Part: Equatable {
        case literal(Substring)
        /// The expression with the braces and surrounding spaces removed, and the template as written.
        case expression(Substring, text: Substring)
    }


    /// Whether the string holds a `{{` at all: the fast test every render starts with.
    static func mayContainTemplate(_ s: String) -> Bool {
        var previous: UInt8 = 0
        for byte in s.utf8 {
            if byte == 0x7B, previous == 0x7B { return true }
            previous = byte
        }
        return false
    }

    /// The parts of `s`, or why it is not well-formed (an unclosed or empty template).
    static func parts(_ s: String) -> Result<[Part], ScanError> {
        var parts: [Part] = []
        var rest = Substring(s)
        while let start = pair(in: rest.utf8, of: 0x7B) {
            let after = rest[start.upperBound...]
            guard let end = closing(in: after.utf8) else {
                return .failure(ScanError(message: "unclosed \"{{\""))
            }
            if start.lowerBound > rest.startIndex { parts.append(.literal(rest[..<start.lowerBound])) }
            let expression = trim(after[..<end.lowerBound])
            guard !expression.isEmpty else { return .failure(ScanError(message: "empty template \"{{}}\"")) }
            parts.append(.expression(expression, text: rest[start.lowerBound..<end.upperBound]))
            rest = after[end.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(rest)) }
        return .success(parts)
    }

    struct ScanError: Error { var message: String }

    /// The first two consecutive `byte`s (`{{` or `}}`); a plain byte loop, since the generic
    /// `firstRange(of:)` showed up in profiles of the submit path.
    private static func pair(in view: Substring.UTF8View, of byte: UInt8) -> Range<String.Index>? {
        var i = view.startIndex
        while i < view.endIndex {
            if view[i] == byte {
                let j = view.index(after: i)
                if j < view.endIndex && view[j] == byte { return i..<view.index(after: j) }
            }
            i = view.index(after: i)
        }
        return nil
    }

    /// The `}}` that closes a template, passing over quoted text (`{{ '}}' }}` is one template: the
    /// literal `}}`).
    private static func closing(in view: Substring.UTF8View) -> Range<String.Index>? {
        var quote: UInt8?
        var i = view.startIndex
        while i < view.endIndex {
            let byte = view[i]
            if let q = quote {
                if byte == q { quote = nil }
            } else if byte == 0x27 || byte == 0x22 {
                quote = byte
            } else if byte == 0x7D {
                let j = view.index(after: i)
                if j < view.endIndex && view[j] == 0x7D { return i..<view.index(after: j) }
            }
            i = view.index(after: i)
        }
        return nil
    }

    /// The text of a quoted literal template (`'{{'` or `"}}"`), or nil when `expression` is not one.
    static func quotedLiteral(_ expression: Substring) -> Substring? {
        guard let first = expression.first, first == "'" || first == "\"", expression.count >= 2,
              expression.last == first else { return nil }
        let inner = expression.dropFirst().dropLast()
        return inner.contains(first) ? nil : inner
    }

    private static func trim(_ s: Substring) -> Substring {
        var t = s
        while let c = t.first, c.isWhitespace { t = t.dropFirst() }
        while let c = t.last, c.isWhitespace { t = t.dropLast() }
        return t
    }
}
