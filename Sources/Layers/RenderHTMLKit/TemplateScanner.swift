/// Reads the tags of a Mustache template the way swift-mustache's parser does (delimiter changes,
/// comments, sections), without rendering anything.
///
/// swift-mustache keeps its tokens internal and has no hook for limits, so the layer finds what it
/// needs here: the partials a template names (to load them), the variable tags (for strict mode), the
/// section nesting (the parser recurses once per level), each section's body size (the render budget),
/// and the delimiters in force at the end (to close the guard it wraps around a partial). Features
/// whose cost cannot be bounded from outside the library are refused here: template inheritance
/// (`{{<parent}}`, `{{$block}}`), dynamic partials (`{{>*name}}`) and pragmas (`{{%...}}`).
/// Where this scanner and the parser could disagree, the layer fails closed (see `TemplatePreparer`).
struct TemplateScan: Sendable {
    enum Kind: Sendable, Equatable {
        case variable, unescaped, section, inverted, close, partial, comment, delimiters
    }

    struct Tag: Sendable, Equatable {
        var kind: Kind
        /// The name as written, spaces trimmed (`""` for comments and delimiter changes).
        var name: String
        /// Byte offsets of the whole tag, delimiters included.
        var range: Range<Int>
        /// 1-based line of the tag's first byte.
        var line: Int
        /// The delimiters in force where the tag starts.
        var open: String
        var close: String
    }

    var tags: [Tag] = []
    /// Largest body (bytes between the open and close tags) of the sections named by each name's last
    /// component: what one iteration of a list under that name can print from the template's own text.
    var sectionBodies: [String: Int] = [:]
    /// Largest section body of all.
    var largestBody = 0
    /// The delimiters in force at the end of the template.
    var finalOpen = "{{"
    var finalClose = "}}"

    /// The partial names the template includes, in order of first use.
    var partialNames: [String] {
        var seen = Set<String>()
        return tags.filter { $0.kind == .partial && seen.insert($0.name).inserted }.map(\.name)
    }
}

/// Why a template was refused before parsing; `line` is 1-based.
struct TemplateScanError: Error, Sendable, Equatable {
    var message: String
    var line: Int
}

enum TemplateScanner {
    /// Scans `text`, starting with the delimiters `open`/`close`, refusing nesting deeper than `maxNesting`.
    static func scan(_ text: String, open: String = "{{", close: String = "}}",
                     maxNesting: Int) throws(TemplateScanError) -> TemplateScan {
        let bytes = Array(text.utf8)
        var scan = TemplateScan()
        var open = Array(open.utf8), close = Array(close.utf8)
        var position = 0
        var line = 1
        var lineCountedTo = 0
        // Open sections: name, the offset where its body starts, and the delimiters outside it
        // (swift-mustache scopes a delimiter change to the section it is made in).
        var stack: [(name: String, bodyStart: Int, open: [UInt8], close: [UInt8])] = []

        func lineAt(_ offset: Int) -> Int {
            while lineCountedTo < offset {
                if bytes[lineCountedTo] == 0x0A { line += 1 }
                lineCountedTo += 1
            }
            return line
        }

        while let start = find(open, in: bytes, from: position) {
            let tagLine = lineAt(start)
            var cursor = start + open.count
            guard cursor < bytes.count else {
                throw TemplateScanError(message: "unfinished tag at the end of the template", line: tagLine)
            }
            let sigil = bytes[cursor]
            let openText = String(decoding: open, as: UTF8.self), closeText = String(decoding: close, as: UTF8.self)
            func fail(_ message: String) -> TemplateScanError { TemplateScanError(message: message, line: tagLine) }
            func nameUntilClose(from: Int) throws(TemplateScanError) -> (String, Int) {
                guard let end = find(close, in: bytes, from: from) else {
                    throw fail("tag \"\(openText)\" is not closed by \"\(closeText)\"")
                }
                return (trimmed(bytes[from..<end]), end + close.count)
            }
            var kind: TemplateScan.Kind
            var name = ""
            switch sigil {
            case UInt8(ascii: "!"):
                guard let end = find(close, in: bytes, from: cursor + 1) else {
                    throw fail("comment is not closed by \"\(closeText)\"")
                }
                kind = .comment
                cursor = end + close.count
            case UInt8(ascii: "="):
                (open, close, cursor) = try delimiterChange(bytes, from: cursor + 1, close: close, line: tagLine)
                kind = .delimiters
            case UInt8(ascii: "<"), UInt8(ascii: "$"):
                throw fail("template inheritance (\"\(openText)\(Character(Unicode.Scalar(sigil)))\") is not supported")
            case UInt8(ascii: "%"):
                throw fail("pragmas (\"\(openText)%\") are not supported")
            case UInt8(ascii: ">"):
                (name, cursor) = try nameUntilClose(from: cursor + 1)
                if name.hasPrefix("*") { throw fail("dynamic partials (\"\(openText)>*\") are not supported") }
                kind = .partial
            case UInt8(ascii: "{"):
                (name, cursor) = try nameUntilClose(from: cursor + 1)
                if cursor < bytes.count && bytes[cursor] == UInt8(ascii: "}") { cursor += 1 }
                kind = .unescaped
            case UInt8(ascii: "&"):
                (name, cursor) = try nameUntilClose(from: cursor + 1)
                kind = .unescaped
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                (name, cursor) = try nameUntilClose(from: cursor + 1)
                kind = sigil == UInt8(ascii: "#") ? .section : .inverted
                stack.append((name, cursor, open, close))
                if stack.count > maxNesting {
                    throw fail("sections nest deeper than max_section_nesting (\(maxNesting))")
                }
            case UInt8(ascii: "/"):
                (name, cursor) = try nameUntilClose(from: cursor + 1)
                guard let last = stack.popLast(), last.name == name else {
                    throw fail("\"\(openText)/\(name)\(closeText)\" closes no open section of that name")
                }
                let body = start - last.bodyStart
                open = last.open
                close = last.close
                let key = lastComponent(name)
                scan.sectionBodies[key] = max(scan.sectionBodies[key] ?? 0, body)
                scan.largestBody = max(scan.largestBody, body)
                kind = .close
            default:
                (name, cursor) = try nameUntilClose(from: cursor)
                kind = .variable
            }
            scan.tags.append(TemplateScan.Tag(kind: kind, name: name, range: start..<cursor, line: tagLine,
                                              open: openText, close: closeText))
            position = cursor
        }
        if let unclosed = stack.last {
            throw TemplateScanError(message: "section \"\(unclosed.name)\" is never closed", line: lineAt(bytes.count))
        }
        scan.finalOpen = String(decoding: open, as: UTF8.self)
        scan.finalClose = String(decoding: close, as: UTF8.self)
        return scan
    }

    /// `{{=<% %>=}}`: the parser reads the new opener up to whitespace, the new closer up to `=` or
    /// whitespace, then `=` and the old closer.
    private static func delimiterChange(_ bytes: [UInt8], from: Int, close: [UInt8],
                                        line: Int) throws(TemplateScanError) -> ([UInt8], [UInt8], Int) {
        var i = from
        func skipSpace() { while i < bytes.count && isSpace(bytes[i]) { i += 1 } }
        skipSpace()
        let openStart = i
        while i < bytes.count && !isSpace(bytes[i]) { i += 1 }
        let newOpen = Array(bytes[openStart..<i])
        skipSpace()
        let closeStart = i
        while i < bytes.count && !isSpace(bytes[i]) && bytes[i] != UInt8(ascii: "=") { i += 1 }
        let newClose = Array(bytes[closeStart..<i])
        skipSpace()
        guard !newOpen.isEmpty, !newClose.isEmpty, i < bytes.count, bytes[i] == UInt8(ascii: "="),
              Array(bytes[(i + 1)..<min(bytes.count, i + 1 + close.count)]) == close
        else {
            throw TemplateScanError(message: "malformed delimiter change (write it as \"{{=<% %>=}}\")", line: line)
        }
        return (newOpen, newClose, i + 1 + close.count)
    }

    static func lastComponent(_ name: String) -> String {
        name.split(separator: ".").last.map(String.init) ?? name
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func trimmed(_ slice: ArraySlice<UInt8>) -> String {
        var s = slice
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return String(decoding: s, as: UTF8.self)
    }

    /// First offset of `needle` in `bytes` at or after `from`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var i = from
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
