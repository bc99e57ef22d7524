/// Length-prefixed frames: a 4-byte unsigned big-endian length, then that many bytes of UTF-8 JSON.
public enum Frame {
    /// The default largest frame body, 16 MiB; configurable per connection.
    public static let defaultMaxSize = 16 * 1024 * 1024

    /// Appends the 4-byte header and the body to `out`.
    public static func encode(_ body: [UInt8], into out: inout [UInt8]) {
        appendHeader(body.count, into: &out)
        out.append(contentsOf: body)
    }

    public static func appendHeader(_ length: Int, into out: inout [UInt8]) {
        let n = UInt32(truncatingIfNeeded: length)
        out.append(UInt8(n >> 24))
        out.append(UInt8((n >> 16) & 0xFF))
        out.append(UInt8((n >> 8) & 0xFF))
        out.append(UInt8(n & 0xFF))
    }

    /// Writes a header placeholder, lets `body` append the payload, then patches the length in.
    public static func build(into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        body(&out)
        let n = UInt32(truncatingIfNeeded: out.count - start - 4)
        out[start] = UInt8(n >> 24)
        out[start + 1] = UInt8((n >> 16) & 0xFF)
        out[start + 2] = UInt8((n >> 8) & 0xFF)
        out[start + 3] = UInt8(n & 0xFF)
    }
}

/// Why a byte stream stopped being a valid sequence of frames.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header announced more bytes than the limit allows; nothing was allocated for it.
    case oversize(length: UInt32, limit: Int)
    /// The stream ended inside a frame.
    case truncated(have: Int)

    public var description: String {
        switch self {
        case .oversize(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        case .truncated(let have): "stream ended inside a frame (\(have) bytes buffered)"
        }
    }
}

/// Splits a byte stream into frames. The length is checked against the limit before a byte of the
/// body is buffered, so a peer that announces 2^31 bytes costs nothing.
public struct FrameDecoder: Sendable {
    public let maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(maxFrameSize: Int = Frame.defaultMaxSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - readIndex }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 65536 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame body, or nil if more bytes are needed.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        guard let length = try peekLength() else { return nil }
        let start = readIndex + 4
        guard buffer.count - start >= length else { return nil }
        let body = Array(buffer[start..<start + length])
        readIndex = start + length
        return body
    }

    /// Calls `body` with the next whole frame without copying it; false if more bytes are needed.
    public mutating func withNext<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R? {
        guard let length = try peekLength() else { return nil }
        let start = readIndex + 4
        guard buffer.count - start >= length else { return nil }
        readIndex = start + length
        return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<start + length])) }
    }

    private func peekLength() throws(FrameError) -> Int? {
        guard buffer.count - readIndex >= 4 else { return nil }
        let b = buffer
        let i = readIndex
        let n = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
        guard n <= maxFrameSize else { throw .oversize(length: n, limit: maxFrameSize) }
        return Int(n)
    }

    /// Call at end of stream: throws if a partial frame is left.
    public func finish() throws(FrameError) {
        if bufferedCount > 0 { throw .truncated(have: bufferedCount) }
    }
}
