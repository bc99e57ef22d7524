/// An independent base64 codec (RFC 4648), so the layer's own codec is checked against another one.
enum TestBase64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let group = Array(bytes[start..<min(start + 3, bytes.count)])
            var n = 0
            for i in 0..<3 { n = n << 8 | Int(i < group.count ? group[i] : 0) }
            for i in 0..<4 {
                out += i <= group.count ? String(UnicodeScalar(alphabet[(n >> (18 - 6 * i)) & 63])) : "="
            }
        }
        return out
    }

    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var n = 0
        var bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            guard let v = alphabet.firstIndex(of: c) else { return [] }
            n = (n << 6 | v) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((n >> bits) & 0xFF))
            }
        }
        return out
    }
}
