/// An IPv4 or IPv6 address as its network-order bytes (4 or 16), parsed the way resolvers and URL
/// parsers read it, so that a policy sees `2130706433`, `0x7f.1` and `127.0.0.1` as the same address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var isV4: Bool { bytes.count == 4 }

    /// Parses IPv4 in every form `inet_aton` accepts (1 to 4 parts, decimal, `0x` hex or `0` octal, the
    /// last part filling the remaining bytes) or IPv6 (with `::`, an embedded dotted IPv4 tail, optional
    /// brackets). A zone (`%eth0`) is refused: a policy cannot reason about link-scoped names.
    public init?(_ text: String) {
        var t = Substring(text)
        if t.hasPrefix("[") && t.hasSuffix("]") { t = t.dropFirst().dropLast() }
        if t.contains(":") {
            guard let b = Self.parseV6(t) else { return nil }
            bytes = b
        } else {
            guard let v = Self.parseV4(t) else { return nil }
            bytes = [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
        }
    }

    /// The inet_aton reading: `a`, `a.b`, `a.b.c`, `a.b.c.d`; each part decimal, octal (leading 0) or hex.
    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let v = parseV4Part(part) else { return nil }
            values.append(v)
        }
        var result: UInt64 = 0
        for (i, v) in values.enumerated() {
            if i < values.count - 1 {
                guard v <= 0xff else { return nil }
                result |= v << UInt64(8 * (3 - i))
            } else {
                let remainingBits = UInt64(8 * (4 - i))
                guard v < (1 << remainingBits) else { return nil }
                result |= v
            }
        }
        return UInt32(result)
    }

    static func parseV4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 34 else { return nil }
        let lower = part.lowercased()
        let (digits, radix): (Substring, Int)
        if lower.hasPrefix("0x") {
            digits = Substring(lower.dropFirst(2))
            radix = 16
            if digits.isEmpty { return 0 }
        } else if lower.count > 1 && lower.hasPrefix("0") {
            (digits, radix) = (Substring(lower.dropFirst()), 8)
        } else {
            (digits, radix) = (Substring(lower), 10)
        }
        guard let v = UInt64(digits, radix: radix), v <= UInt64(UInt32.max) else { return nil }
        return v
    }

    static func parseV6(_ text: Substring) -> [UInt8]? {
        guard !text.contains("%"), text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        sawGap = halves.count == 2
        func groups(_ s: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            let pieces = s.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (i, p) in pieces.enumerated() {
                if i == pieces.count - 1 && allowV4Tail && p.contains(".") {
                    guard p.split(separator: ".", omittingEmptySubsequences: false).count == 4,
                          p.allSatisfy({ $0.isNumber || $0 == "." }),
                          let v = parseV4(p) else { return nil }
                    out.append(UInt16(v >> 16))
                    out.append(UInt16(v & 0xffff))
                } else {
                    guard (1...4).contains(p.count), let g = UInt16(p, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if sawGap {
            guard let h = groups(halves[0], allowV4Tail: false), let t = groups(halves[1], allowV4Tail: true),
                  h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowV4Tail: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// The IPv4 address an IPv6 address carries in its last 32 bits.
    var lowV4: IPAddress { IPAddress(bytes: Array(bytes[12..<16]))! }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (longest zero run compressed, lower-case hex).
    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.length && j - i > 1 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        if best.start < 0 { return hex(groups[...]) }
        return hex(groups[..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
    }
}

extension Substring {
    /// Splits at the first `::` only (a second `::` makes three parts, which IPv6 refuses).
    fileprivate func components(separatedByDoubleColon _: Void) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: "::") {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
