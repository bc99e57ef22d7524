/// The Redis serialization protocol (RESP2), the parts a client needs: commands out, replies in. Pure.
enum RESP {
    /// A server reply.
    indirect enum Reply: Equatable, Sendable {
        case simple(String)
        case error(String)
        case integer(Int64)
        case bulk([UInt8]?)
        case array([Reply]?)

        var text: String? {
            switch self {
            case .simple(let s): s
            case .bulk(let b?): String(decoding: b, as: UTF8.self)
            default: nil
            }
        }
    }

    /// A command as an array of bulk strings: binary-safe, so no argument can break the framing.
    static func command(_ args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [0x0D, 0x0A]
        }
        return out
    }

    static func command(_ args: [String]) -> [UInt8] { command(args.map { Array($0.utf8) }) }

    /// The deepest nesting of arrays accepted in a reply.
    static let maxDepth = 8
}

/// Reads one RESP reply from a source of lines and counted bytes (a connection, or bytes in a test).
protocol RESPSource {
    mutating func readLine() throws(RESPReadError) -> [UInt8]
    mutating func readExactly(_ count: Int) throws(RESPReadError) -> [UInt8]
}

/// Why a reply could not be read: the source failed, or the server broke the protocol.
enum RESPReadError: Error {
    case source(any Error)
    case malformed(String)
}

extension RESP {
    static func read<S: RESPSource>(from source: inout S, depth: Int = 0) throws(RESPReadError) -> Reply {
        let line = try source.readLine()
        guard let kind = line.first else { throw .malformed("an empty reply line") }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"): return .simple(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"):
            guard let n = Int64(rest) else { throw .malformed("integer reply \"\(rest)\"") }
            return .integer(n)
        case UInt8(ascii: "$"):
            guard let n = Int(rest), n >= -1, n <= TCPConnection.maxReplyBytes else { throw .malformed("bulk length \"\(rest)\"") }
            if n == -1 { return .bulk(nil) }
            let bytes = try source.readExactly(n + 2)
            return .bulk(Array(bytes.prefix(n)))
        case UInt8(ascii: "*"):
            guard let n = Int(rest), n >= -1, n <= 1_000_000 else { throw .malformed("array length \"\(rest)\"") }
            if n == -1 { return .array(nil) }
            guard depth < maxDepth else { throw .malformed("arrays nested deeper than \(maxDepth)") }
            var items: [Reply] = []
            for _ in 0..<n { items.append(try read(from: &source, depth: depth + 1)) }
            return .array(items)
        default:
            throw .malformed("unknown reply type \(String(decoding: [kind], as: UTF8.self))")
        }
    }
}
