#if canImport(Glibc)
import Glibc
#endif
import CLibPQ
import JALMWire

/// Values to and from PostgreSQL.
///
/// Parameters go as text with type 0 (the server infers the type from the statement), except bytes,
/// which go in binary as `bytea`. Results come in text form and are mapped by column type: bool → true/
/// false, int2/int4/int8/oid → integer, float4/float8 → number, json/jsonb → the parsed value, bytea →
/// `{"$blob": base64}`, NULL → null; everything else (numeric, timestamps, dates, uuid, arrays, ...) →
/// the server's text (ISO dates in UTC, set by the session).
enum PostgresValues {
    static let byteaOID: UInt32 = 17

    /// Calls `body` with libpq's four parallel arrays for `values`.
    static func withParameters<R>(
        _ values: [BindValue],
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        var types: [Oid] = []
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for value in values {
            switch value {
            case .null:
                types.append(0); buffers.append(nil); lengths.append(0); formats.append(0)
            case .blob(let bytes):
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
                bytes.withUnsafeBytes { raw in if !raw.isEmpty { memcpy(p, raw.baseAddress!, raw.count) } }
                types.append(byteaOID); buffers.append(p); lengths.append(Int32(bytes.count)); formats.append(1)
            default:
                types.append(0); buffers.append(strdup(text(value))); lengths.append(0); formats.append(0)
            }
        }
        defer {
            for (i, b) in buffers.enumerated() {
                if formats[i] == 1 { b?.deallocate() } else { free(b) }
            }
        }
        let params: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
        return types.withUnsafeBufferPointer { t in
            params.withUnsafeBufferPointer { p in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in
                        body(t.baseAddress, p.baseAddress, l.baseAddress, f.baseAddress)
                    }
                }
            }
        }
    }

    /// The text form of a non-null, non-blob parameter.
    static func text(_ value: BindValue) -> String {
        switch value {
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .double(let d): return d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : "\(d)"
        case .text(let s): return s
        case .null, .blob: return ""
        }
    }

    /// Row `r` of `result` as a JSON object.
    static func row(_ result: OpaquePointer, _ r: Int32, columns: [String]) -> [String: JSONValue] {
        var row: [String: JSONValue] = [:]
        for c in 0..<Int32(columns.count) {
            guard PQgetisnull(result, r, c) == 0 else { row[columns[Int(c)]] = .null; continue }
            let count = Int(PQgetlength(result, r, c))
            let text = String(decoding: UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: count), as: UTF8.self)
            row[columns[Int(c)]] = value(text, type: PQftype(result, c))
        }
        return row
    }

    /// One text-form value as JSON, by its type OID (pg_type.h).
    static func value(_ text: String, type: UInt32) -> JSONValue {
        switch type {
        case 16: return .bool(text == "t")
        case 20, 21, 23, 26: return Int64(text).map { .int($0) } ?? .string(text)
        case 700, 701:
            if let d = Double(text), d.isFinite { return .double(d) }
            return .string(text)
        case 114, 3802: return (try? JSONParser.parse(text)) ?? .string(text)
        case 17: return hexBytes(text).map(BindValue.blobJSON) ?? .string(text)
        default: return .string(text)
        }
    }

    /// bytea's text output (`\x0102ff`) as bytes.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let s = Array(text.utf8)
        guard s.count >= 2, s[0] == UInt8(ascii: "\\"), s[1] == UInt8(ascii: "x"), s.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((s.count - 2) / 2)
        var i = 2
        while i < s.count {
            guard let hi = nibble(s[i]), let lo = nibble(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
