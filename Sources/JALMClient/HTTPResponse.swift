/// One HTTP/1.1 response as the CLI needs it: status, headers, the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first header of that name, compared case-insensitively (RFC 9110 §5.1).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// Parses a response from the bytes read so far. Pure: the client feeds it and asks whether it is complete.
enum HTTPResponseParser {
    /// What was wrong with the bytes; the client turns it into an error for the user.
    struct Malformed: Error { var reason: String }

    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    /// The response if `bytes` hold all of it, nil if more is needed. `atEOF` says the peer closed the
    /// connection, which ends a body that has neither Content-Length nor chunked encoding (RFC 9112 §6.3).
    static func parse(_ bytes: [UInt8], atEOF: Bool) throws(Malformed) -> HTTPResponse? {
        var start = 0
        while true {
            guard let headEnd = find(crlfcrlf, in: bytes, from: start) else {
                if atEOF { throw Malformed(reason: "the connection closed inside the response head") }
                return nil
            }
            let head = String(decoding: bytes[start..<headEnd], as: UTF8.self)
            let (status, headers) = try parseHead(head)
            let bodyStart = headEnd + 4
            // An interim 1xx answer (100 Continue) is followed by the real one.
            if (100..<200).contains(status) { start = bodyStart; continue }
            var response = HTTPResponse(status: status, headers: headers, body: [])
            if status == 204 || status == 304 { return response }
            if let te = response.header("Transfer-Encoding"), te.lowercased().contains("chunked") {
                guard let body = try decodeChunked(bytes, from: bodyStart) else {
                    if atEOF { throw Malformed(reason: "the connection closed inside a chunked body") }
                    return nil
                }
                response.body = body
            } else if let lengthText = response.header("Content-Length") {
                guard let length = Int(lengthText.trimmed), length >= 0 else {
                    throw Malformed(reason: "bad Content-Length \"\(lengthText)\"")
                }
                guard bytes.count >= bodyStart + length else {
                    if atEOF { throw Malformed(reason: "the connection closed before the whole body arrived") }
                    return nil
                }
                response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            } else {
                guard atEOF else { return nil }
                response.body = Array(bytes[bodyStart...])
            }
            return response
        }
    }

    /// Whether a chunked body could be complete: it ends with the last chunk and an empty trailer.
    /// Cheap, so the read loop may ask after every read; `parse` then checks properly.
    static func mayBeComplete(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 5 && bytes.suffix(5).elementsEqual([48, 13, 10, 13, 10])
    }

    private static func parseHead(_ head: String) throws(Malformed) -> (Int, [(name: String, value: String)]) {
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { throw Malformed(reason: "empty response") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status)
        else { throw Malformed(reason: "not an HTTP response: \"\(statusLine.prefix(60))\"") }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(reason: "bad header line \"\(line)\"") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmed))
        }
        return (status, headers)
    }

    /// Decodes a chunked body starting at `from`; nil while incomplete (RFC 9112 §7.1).
    private static func decodeChunked(_ bytes: [UInt8], from: Int) throws(Malformed) -> [UInt8]? {
        var body: [UInt8] = []
        var pos = from
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: pos) else { return nil }
            let line = String(decoding: bytes[pos..<lineEnd], as: UTF8.self)
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map { String($0).trimmed } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw Malformed(reason: "bad chunk size \"\(line.prefix(20))\"")
            }
            pos = lineEnd + 2
            if size == 0 {
                // Trailers (ignored) end with an empty line.
                if bytes.count >= pos + 2, bytes[pos] == 13, bytes[pos + 1] == 10 { return body }
                return find(crlfcrlf, in: bytes, from: pos) == nil ? nil : body
            }
            guard bytes.count >= pos + size + 2 else { return nil }
            body.append(contentsOf: bytes[pos..<(pos + size)])
            pos += size + 2
        }
    }

    /// The index where `needle` starts in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
