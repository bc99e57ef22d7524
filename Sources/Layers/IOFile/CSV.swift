/// RFC 4180 comma-separated values, as pure functions over bytes: no I/O here.
enum CSV {
    /// Why bytes are not CSV, with the 1-based line where the problem is.
    struct Malformed: Error, Equatable {
        let line: Int
        let message: String
    }

    /// The records of `bytes`. Fields may be quoted (`"a,b"`, `""` for a quote); records end at LF or
    /// CRLF; a UTF-8 byte-order mark is skipped; blank lines are skipped; a quote inside an unquoted field
    /// is kept as a character. Stops with `.tooMany` once more than `maxRecords` records were seen.
    static func parse(_ bytes: [UInt8], delimiter: UInt8, maxRecords: Int) -> Result<[[String]], ParseStop> {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var quoted = false
        var quoteLine = 0
        var fieldStarted = false  // a record has begun (so a blank line is not a record)

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
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 2
                        continue
                    }
                    quoted = false
                    i += 1
                    // After the closing quote only a delimiter, a line end or the end may follow.
                    if i < bytes.count, bytes[i] != delimiter, bytes[i] != 10, bytes[i] != 13 {
                        return .failure(.malformed(Malformed(line: line, message: "a character follows the closing quote of a field")))
                    }
                    continue
                }
                if c == 10 { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "\"") where field.isEmpty:
                quoted = true
                quoteLine = line
                fieldStarted = true
            case delimiter:
                if let m = finishField() { return .failure(.malformed(m)) }
                fieldStarted = true
            case 10, 13:
                if c == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                if fieldStarted || !field.isEmpty || !record.isEmpty {
                    if let m = finishField() { return .failure(.malformed(m)) }
                    records.append(record)
                    record = []
                    if records.count > maxRecords { return .failure(.tooMany) }
                }
                fieldStarted = false
                line += 1
            default:
                field.append(c)
                fieldStarted = true
            }
            i += 1
        }
        if quoted {
            return .failure(.malformed(Malformed(line: quoteLine, message: "a quoted field is not closed")))
        }
        if fieldStarted || !field.isEmpty || !record.isEmpty {
            if let m = finishField() { return .failure(.malformed(m)) }
            records.append(record)
            if records.count > maxRecords { return .failure(.tooMany) }
        }
        return .success(records)
    }

    enum ParseStop: Error, Equatable {
        case malformed(Malformed)
        case tooMany
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
