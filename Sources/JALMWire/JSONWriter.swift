/// Serialises a `JSONValue` to compact UTF-8 JSON.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue, sortedKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, into: &out, sortedKeys: sortedKeys)
        return out
    }

    public static func string(_ value: JSONValue, sortedKeys: Bool = false) -> String {
        String(decoding: bytes(value, sortedKeys: sortedKeys), as: UTF8.self)
    }

    /// Indented, sorted output for people (the CLI).
    public static func pretty(_ value: JSONValue, indent: Int = 0) -> String {
        var out: [UInt8] = []
        writePretty(value, into: &out, level: indent)
        return String(decoding: out, as: UTF8.self)
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8], sortedKeys: Bool = false) {
        switch value {
        case .null: out.append(contentsOf: nullBytes)
        case .bool(let b): out.append(contentsOf: b ? trueBytes : falseBytes)
        case .int(let i): writeInt(i, into: &out)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(v, into: &out, sortedKeys: sortedKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            func member(_ k: String, _ v: JSONValue) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(v, into: &out, sortedKeys: sortedKeys)
            }
            if sortedKeys {
                for k in o.keys.sorted() { member(k, o[k]!) }
            } else {
                for (k, v) in o { member(k, v) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let nullBytes: [UInt8] = Array("null".utf8)
    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)

    /// Decimal digits without making a String.
    public static func writeInt(_ i: Int64, into out: inout [UInt8]) {
        if i == 0 { return out.append(UInt8(ascii: "0")) }
        var magnitude = i.magnitude
        if i < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        while magnitude > 0 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        out[start...].reverse()
    }

    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: Array("null".utf8)); return }
        if d.rounded() == d && abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
            out.append(contentsOf: Array(".0".utf8))
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0xF)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func writePretty(_ value: JSONValue, into out: inout [UInt8], level: Int) {
        func pad(_ n: Int) { out.append(contentsOf: [UInt8](repeating: 0x20, count: n * 2)) }
        switch value {
        case .array(let a) where !a.isEmpty:
            out.append(contentsOf: Array("[\n".utf8))
            for (i, v) in a.enumerated() {
                pad(level + 1)
                writePretty(v, into: &out, level: level + 1)
                out.append(contentsOf: i + 1 < a.count ? Array(",\n".utf8) : [0x0A])
            }
            pad(level)
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(contentsOf: Array("{\n".utf8))
            let keys = o.keys.sorted()
            for (i, k) in keys.enumerated() {
                pad(level + 1)
                writeString(k, into: &out)
                out.append(contentsOf: Array(": ".utf8))
                writePretty(o[k]!, into: &out, level: level + 1)
                out.append(contentsOf: i + 1 < keys.count ? Array(",\n".utf8) : [0x0A])
            }
            pad(level)
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { JSONWriter.string(self, sortedKeys: true) }
}
