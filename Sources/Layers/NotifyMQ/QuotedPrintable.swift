/// Quoted-printable (RFC 2045 §6.7) for text bodies: readable when mostly ASCII, 7-bit safe, lines of at
/// most 76 characters, line breaks normalised to CRLF. Pure.
enum QuotedPrintable {
    static let maxLine = 76

    static func encode(_ text: String) -> String {
        var out = ""
        let lines = text.replacingLineBreaks()
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "\r\n" }
            out += encodeLine(Array(line.utf8))
        }
        return out
    }

    /// One logical line: soft breaks (`=` CRLF) keep each physical line within 76 characters.
    static func encodeLine(_ bytes: [UInt8]) -> String {
        var out = ""
        var width = 0
        for (i, b) in bytes.enumerated() {
            let last = i == bytes.count - 1
            let literal = (b >= 0x21 && b <= 0x7E && b != UInt8(ascii: "=")) || ((b == 0x20 || b == 0x09) && !last)
            // A leading "." is encoded so that no line of the message can read as SMTP's end of data.
            let piece = literal && !(width == 0 && b == UInt8(ascii: ".")) ? String(UnicodeScalar(b)) : escape(b)
            // Room for the piece plus a soft break "=" (unless this is the line's last piece).
            if width + piece.count > (last ? maxLine : maxLine - 1) {
                out += "=\r\n"
                width = 0
                if b == UInt8(ascii: ".") { out += escape(b); width = 3; continue }
            }
            out += piece
            width += piece.count
        }
        return out
    }

    static func escape(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0x0f)])
    }
}

extension String {
    /// The text split at CRLF, CR or LF.
    func replacingLineBreaks() -> [Substring] {
        var lines: [Substring] = []
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            let c = self[i]
            if c == "\r\n" || c == "\n" || c == "\r" {
                lines.append(self[start..<i])
                start = index(after: i)
            }
            i = index(after: i)
        }
        lines.append(self[start..<endIndex])
        return lines
    }
}
