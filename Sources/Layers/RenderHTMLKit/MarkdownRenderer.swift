import Ink

/// Markdown to HTML with Ink, made safe for untrusted text.
///
/// Ink passes raw HTML through as written, inserts link targets and code-block languages into
/// attributes without escaping `"`, and lets `&...;` carry raw `<` (`&<script>;`). So, unless
/// `allow_html` is set, before Ink sees the text every `<` becomes U+FDD0 and every `"` U+FDD1
/// (Unicode noncharacters, reserved for a program's internal use; any already in the input become
/// U+FFFD); Ink then finds no HTML, and no attribute value can be closed early. Afterwards they
/// become `&lt;` and `&quot;`, which read as `<` and `"` wherever they land (text, code, attribute).
/// Link and image targets are checked either way: only http, https, mailto, tel or a scheme-less
/// (relative) target is kept; any other (`javascript:`, `data:`, `vbscript:`, an entity-encoded
/// colon...) becomes `#`.
enum MarkdownRenderer {
    /// The noncharacters U+FDD0 (`<`), U+FDD1 (`"`), U+FDD2 (a bare `&`), U+FDD3…5 (`*`, `_`, `~` past
    /// `maxStyleMarkers`) stand in for what Ink must not see; their UTF-8 is EF B7 90…95.
    ///
    /// Ink's emphasis parsing is quadratic in the number of markers (5,000 `*`: 0.6 s in a debug
    /// build), so only the first `maxStyleMarkers` `*`, `_` and `~` of a text can open or close emphasis;
    /// later ones print as themselves.
    static let maxStyleMarkers = 1000

    static func html(_ markdown: String, allowHTML: Bool) -> String {
        let parser = MarkdownParser(modifiers: [
            Modifier(target: .links) { neutralise($0.html, attribute: "href") },
            Modifier(target: .images) { neutralise($0.html, attribute: "src") },
        ])
        let html = parser.html(from: disarm(markdown, allowHTML: allowHTML))
        return restore(html)
    }

    /// The text Ink reads: `<` and `"` replaced (unless `allowHTML`), and every `&` that does not start an
    /// entity (`&name;`, `&#123;`, `&#x1F;`, at most 32 characters) replaced too: Ink scans from each `&`
    /// to the next `;`, which costs time quadratic in a run of bare `&`, and carries raw `<` inside it.
    static func disarm(_ markdown: String, allowHTML: Bool) -> String {
        let bytes = Array(markdown.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var i = 0
        var markers = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xB7, (0x90...0x95).contains(bytes[i + 2]) {
                out += [0xEF, 0xBF, 0xBD]  // U+FFFD for a noncharacter already in the input
                i += 3
                continue
            }
            switch b {
            case UInt8(ascii: "<") where !allowHTML: out += [0xEF, 0xB7, 0x90]
            case UInt8(ascii: "\"") where !allowHTML: out += [0xEF, 0xB7, 0x91]
            case UInt8(ascii: "&") where !startsEntity(bytes, at: i): out += [0xEF, 0xB7, 0x92]
            case UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                markers += 1
                if markers > maxStyleMarkers {
                    out += [0xEF, 0xB7, b == UInt8(ascii: "*") ? 0x93 : b == UInt8(ascii: "_") ? 0x94 : 0x95]
                } else {
                    out.append(b)
                }
            default: out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func startsEntity(_ bytes: [UInt8], at i: Int) -> Bool {
        var j = i + 1
        while j < bytes.count && j - i <= 33 {
            let c = bytes[j]
            if c == UInt8(ascii: ";") { return j > i + 1 }
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "#")
            if !ok { return false }
            j += 1
        }
        return false
    }

    /// Ink's output with the stand-ins written as the entities they mean.
    static func restore(_ html: String) -> String {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xB7 {
                switch bytes[i + 2] {
                case 0x90: out += Array("&lt;".utf8); i += 3; continue
                case 0x91: out += Array("&quot;".utf8); i += 3; continue
                case 0x92: out += Array("&amp;".utf8); i += 3; continue
                case 0x93: out.append(UInt8(ascii: "*")); i += 3; continue
                case 0x94: out.append(UInt8(ascii: "_")); i += 3; continue
                case 0x95: out.append(UInt8(ascii: "~")); i += 3; continue
                default: break
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Where `markdown` nests deeper than `limit` (see `RenderLimits.maxMarkdownNesting`): a message and
    /// its 1-based line, or nil.
    static func nestingProblem(_ markdown: String, limit: Int) -> (String, Int)? {
        var depth = 0, line = 1, indent = 0, atLineStart = true
        for b in markdown.utf8 {
            switch b {
            case 0x0A:
                line += 1; indent = 0; atLineStart = true
                continue
            case 0x20 where atLineStart, 0x09 where atLineStart:
                indent += 1
                if indent > 32 * limit {
                    return ("a line is indented by more than \(32 * limit) spaces or tabs (32 × max_markdown_nesting)", line)
                }
                continue
            case UInt8(ascii: "["):
                depth += 1
                if depth > limit { return ("more than max_markdown_nesting (\(limit)) \"[\" are open at once", line) }
            case UInt8(ascii: "]"):
                depth = max(0, depth - 1)
            default: break
            }
            atLineStart = false
        }
        return nil
    }

    /// `<a href="URL">` or `<img src="URL"` from Ink, with URL replaced by `#` unless it is safe.
    /// (With `allow_html` off, URL holds no `"`: the first `"` after the value's start ends it.)
    static func neutralise(_ html: String, attribute: String) -> String {
        let marker = " \(attribute)=\""
        guard let start = html.range(of: marker)?.upperBound,
              let end = html[start...].firstIndex(of: "\"") else { return html }
        let url = html[start..<end]
        guard !LinkSafety.isSafe(url) else { return html }
        return String(html[..<start]) + "#" + String(html[end...])
    }
}

/// Which link targets Markdown output may keep.
enum LinkSafety {
    static let schemes: Set<String> = ["http", "https", "mailto", "tel"]

    /// True for a relative target or one whose scheme is allowed. Anything before the first `/`, `?`
    /// or `#` that holds a `:` is a scheme; one that holds `&`, a control character, whitespace or a
    /// non-ASCII character is refused, since browsers decode entities and drop such characters before
    /// they read the scheme (`java&#x09;script:`, `javascript&colon;`).
    static func isSafe(_ url: Substring) -> Bool {
        let head = url.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        for scalar in head.unicodeScalars {
            if scalar == "&" || scalar.value < 0x21 || scalar.value > 0x7E { return false }
        }
        guard let colon = head.firstIndex(of: ":") else { return true }
        return schemes.contains(head[..<colon].lowercased())
    }
}
