import JALMWire

/// Header values for a message: RFC 2047 encoded-words for non-ASCII text, quoting of display names. Pure.
enum MIMEHeader {
    /// The longest encoded-word allowed by RFC 2047 is 75 characters; 45 raw bytes make 60 base64
    /// characters, plus `=?UTF-8?B?` and `?=` make 72.
    static let maxEncodedBytes = 45

    static func isPlainASCII(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }

    /// Unstructured text (Subject): as it is when printable ASCII, else encoded-words, folded with CRLF SP
    /// and split only between whole UTF-8 characters.
    static func unstructured(_ s: String) -> String {
        isPlainASCII(s) ? s : encodedWords(s)
    }

    /// A display name: as it is when it is atoms, quoted when it has specials, encoded when not ASCII.
    static func phrase(_ s: String) -> String {
        guard isPlainASCII(s) else { return encodedWords(s) }
        let atext = s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x20
                || "!#$%&'*+-/=?^_`{|}~".utf8.contains(b)
        }
        if atext { return s }
        var quoted = "\""
        for c in s { if c == "\"" || c == "\\" { quoted.append("\\") }; quoted.append(c) }
        return quoted + "\""
    }

    static func encodedWords(_ s: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in s.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maxEncodedBytes {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Base64.encode(bytes))?=" }
}
