/// RFC 4180 comma-separated values, as pure functions over bytes: no I/O here.
enum CSV {
    /// Why bytes are not CSV, with the 1-based line where the problem is.
    struct Malformed: Error, Equatable {
        let line: Int
        let message: String
    }

    /// The UTF-8 byte-order mark, skipped at the start of a file.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The records of `bytes`. Fields may be quoted (`"a,b"`, `""` for a quote); records end at LF or
    /// CRLF; a UTF-8 byte-order mark is skipped; blank lines are skipped; a quote inside an unquoted field
    /// is kept as a character. Stops with `.tooMany` once more than `maxRecords` records were seen.
    static func parse(_ bytes: [UInt8], delimiter: UInt8, maxRecords: Int) -> Result<[[String]], ParseStop> {
        let start = bytes.starts(with: byteOrderMark) ? byteOrderMark.count : 0
        let take = maxRecords == .max ? maxRecords : maxRecords + 1
        switch scan(bytes, from: start, line: 1, delimiter: delimiter, maxRecords: take, final: true) {
        case .failure(let m): return .failure(.malformed(m))
        case .success(let s): return s.records.count > maxRecords ? .failure(.tooMany) : .success(s.records)
        }
    }

    enum ParseStop: Error, Equatable {
        case malformed(Malformed)
        case tooMany
    }

    /// How far `scan` got through a window of bytes.
    struct Scan: Equatable {
        /// The complete records, in order.
        var records: [[String]]
        /// An index in the bytes at a record boundary: just after the line end of the last record when
        /// `maxRecords` of them were taken; otherwise after the last line end not inside a record that is
        /// still open (the end of the bytes when they are `final`).
        var end: Int
        /// The line number at `end`.
        var line: Int
    }

    /// The records in `bytes` from index `start` (a record boundary, on line `line`), as `parse` reads them
    /// but stopping after `maxRecords` records. `final` says the bytes run to the end of the input; when
    /// they do not, a record is complete only once its line end was seen (a CR last in the bytes waits for
    /// a possible LF), so a caller that holds only part of a file gets the complete records and `end`,
    /// where to resume with more bytes. A record split anywhere thus parses exactly as in one window.
    static func scan(_ bytes: [UInt8], from start: Int, line firstLine: Int, delimiter: UInt8,
                     maxRecords: Int, final: Bool) -> Result<Scan, Malformed> {
        let quote = UInt8(ascii: "\"")
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var i = start
        var line = firstLine
        var end = start
        var endLine = firstLine
        var quoted = false
        var quoteLine = 0
        var open = false  // a record has begun since the last line end (so a blank line is not a record)
        guard maxRecords > 0 else { return .success(Scan(records: [], end: start, line: firstLine)) }

        func finishField() -> Malformed? {
            guard let s = String(validating: field, as: UTF8.self) else {
                return Malformed(line: line, message: "a field is not valid UTF-8")
            }
            record.append(s)
            field.removeAll(keepingCapacity: true)
            return nil
        }

        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote {
                        field.append(c)
                        i += 2
                        continue
                    }
                    // Last in a window that is not final, this may be the first of a doubled quote: the
                    // record has no line end yet, so it is scanned again with more bytes anyway.
                    quoted = false
                    i += 1
                    // After the closing quote only a delimiter, a line end or the end may follow.
                    if i < bytes.count, bytes[i] != delimiter, bytes[i] != 10, bytes[i] != 13 {
                        return .failure(Malformed(line: line, message: "a character follows the closing quote of a field"))
                    }
                    continue
                }
                if c == 10 { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            switch c {
            case quote where field.isEmpty:
                quoted = true
                quoteLine = line
                open = true
            case delimiter:
                if let m = finishField() { return .failure(m) }
                open = true
            case 10, 13:
                if c == 13 && i + 1 == bytes.count && !final {
                    // The line end may be CRLF with its LF still to come: it waits for more bytes.
                    return .success(Scan(records: records, end: end, line: endLine))
                }
                let next = c == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 ? i + 2 : i + 1
                if open {
                    if let m = finishField() { return .failure(m) }
                    records.append(record)
                    record = []
                    open = false
                }
                line += 1
                i = next
                end = i
                endLine = line
                if records.count >= maxRecords { return .success(Scan(records: records, end: end, line: endLine)) }
                continue
            default:
                field.append(c)
                open = true
            }
            i += 1
        }
        guard final else { return .success(Scan(records: records, end: end, line: endLine)) }  // an open record waits
        if quoted {
            return .failure(Malformed(line: quoteLine, message: "a quoted field is not closed"))
        }
        if open {
            if let m = finishField() { return .failure(m) }
            records.append(record)
        }
        return .success(Scan(records: records, end: bytes.count, line: line))
    }

    /// One record as RFC 4180 text ending in CRLF: a field is quoted when it holds the delimiter, a quote,
    /// CR or LF (quotes doubled), and a record of one empty field is written `""` so that it is not read
    /// back as a blank line.
    static func format(_ fields: [String], delimiter: UInt8, into out: inout [UInt8]) {
        if fields.count == 1 && fields[0].isEmpty {
            out += [UInt8(ascii: "\""), UInt8(ascii: "\""), 13, 10]
            return
        }
        for (n, f) in fields.enumerated() {
            if n > 0 { out.append(delimiter) }
            let bytes = Array(f.utf8)
            if bytes.contains(where: { $0 == delimiter || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }) {
                out.append(UInt8(ascii: "\""))
                for b in bytes {
                    out.append(b)
                    if b == UInt8(ascii: "\"") { out.append(b) }
                }
                out.append(UInt8(ascii: "\""))
            } else {
                out += bytes
            }
        }
        out += [13, 10]
    }
}
