#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import JALMWire

extension IOFileHandler {
    /// `csv.read {path, header, delimiter, max_rows, max_bytes, offset, limit}` → with a header row (the
    /// default) `{columns, rows: [{column: value}], row_count}`, without `{rows: [[value]], row_count}`.
    /// Values are strings, as CSV has no types. With `offset` or `limit` it reads one page
    /// (`readCSVPage`) and adds `next_offset` and `more`; `chunkBytes` is the page's read size, for tests.
    func readCSV(_ value: JSONValue, chunkBytes: Int = CSVWindow.chunkBytes) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "csv.read", value,
                                allowed: ["path", "header", "delimiter", "max_rows", "max_bytes", "offset", "limit"])
        let request = CSVReadRequest(
            path: try input.path("path"),
            header: try input.bool("header", default: true),
            delimiter: try input.delimiter(),
            maxRows: try input.limit("max_rows", setting: "max_csv_rows", settings.maxCSVRows),
            maxBytes: try input.maxBytes(setting: "max_read_bytes", settings.maxReadBytes),
            offset: try input.optionalInt("offset", in: 0...Int(Int64.max)),
            limit: input.has("limit") ? try input.limit("limit", setting: "max_csv_rows", settings.maxCSVRows, minimum: 1) : nil)
        if request.isPaged { return try readCSVPage(request, chunkBytes: chunkBytes) }
        return try readWholeCSV(request)
    }

    /// The whole file, which must fit `max_bytes`; more than `max_rows` rows is `resource_exhausted`.
    private func readWholeCSV(_ r: CSVReadRequest) throws(CallFailure) -> JSONValue {
        let bytes = try readWhole(r.path, maxBytes: r.maxBytes, action: "read CSV from")
        var records: [[String]]
        switch CSV.parse(bytes, delimiter: r.delimiter, maxRecords: r.maxRows + (r.header ? 1 : 0)) {
        case .success(let found): records = found
        case .failure(.tooMany): throw tooManyCSVRows(r)
        case .failure(.malformed(let m)):
            throw CallFailure(.invalidInput, "cannot read \"\(r.path.text)\" as CSV: line \(m.line): \(m.message)",
                              details: ["path": .string(r.path.text), "line": .int(Int64(m.line))])
        }
        guard r.header else { return .object(try csvTable(records, columns: nil, r, page: nil)) }
        let columns = records.isEmpty ? [] : records.removeFirst()
        try requireDistinct(columns, r)
        return .object(try csvTable(records, columns: columns, r, page: nil))
    }

    func tooManyCSVRows(_ r: CSVReadRequest) -> CallFailure {
        CallFailure(.resourceExhausted,
                    "cannot read \"\(r.path.text)\" as CSV: it has more than \(r.maxRows) rows (max_rows)",
                    retryable: false, details: ["path": .string(r.path.text), "max_rows": .int(Int64(r.maxRows))])
    }

    /// Refuses a header that names a column twice (the rows could not be objects).
    func requireDistinct(_ columns: [String], _ r: CSVReadRequest) throws(CallFailure) {
        guard let duplicate = Self.firstDuplicate(columns) else { return }
        throw CallFailure(.invalidInput,
                          "cannot read \"\(r.path.text)\" as CSV: the header names column \"\(duplicate)\" twice; use header: false",
                          details: ["path": .string(r.path.text), "column": .string(duplicate)])
    }

    /// The output for `records` (data rows only): objects keyed by `columns`, or arrays when there are none.
    /// `page` is where a page that does not start the file starts, for the row numbers in errors.
    func csvTable(_ records: [[String]], columns: [String]?, _ r: CSVReadRequest, page: Int?) throws(CallFailure) -> [String: JSONValue] {
        guard let columns else {
            return ["rows": .array(records.map { .array($0.map(JSONValue.string)) }), "row_count": .int(Int64(records.count))]
        }
        var rows: [JSONValue] = []
        rows.reserveCapacity(records.count)
        for (n, record) in records.enumerated() {
            guard record.count == columns.count else {
                let which = page.map { "data row \(n + 1) of the page from byte \($0)" } ?? "data row \(n + 1)"
                var details: [String: JSONValue] = ["path": .string(r.path.text), "row": .int(Int64(n + 1))]
                if let page { details["offset"] = .int(Int64(page)) }
                throw CallFailure(
                    .invalidInput,
                    "cannot read \"\(r.path.text)\" as CSV: \(which) has \(record.count) fields, the header has \(columns.count)",
                    details: .object(details))
            }
            var object: [String: JSONValue] = [:]
            for (name, field) in zip(columns, record) { object[name] = .string(field) }
            rows.append(.object(object))
        }
        return ["columns": .array(columns.map(JSONValue.string)), "rows": .array(rows), "row_count": .int(Int64(rows.count))]
    }

    /// `csv.write {path, rows, columns, header, delimiter, create_dirs, overwrite, max_bytes, sha256}` →
    /// `{path, row_count, size, sha256?}`, atomically like `write`. Rows are arrays, or objects laid out by
    /// `columns` (default: the first row's keys, sorted); values are strings, numbers, booleans or null (empty).
    func writeCSV(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "csv.write", value, allowed: ["path", "rows", "columns", "header", "delimiter",
                                                                   "create_dirs", "overwrite", "max_bytes", "sha256"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "csv.write")
        guard let rows = input.fields["rows"]?.arrayValue else { throw input.invalid("rows", "is required and must be an array") }
        guard rows.count <= settings.maxCSVRows else {
            throw CallFailure(.resourceExhausted,
                              "io-file.csv.write: \"rows\" has \(rows.count) rows, over the layer's bound of \(settings.maxCSVRows) (layers.io-file.max_csv_rows)",
                              retryable: false, details: ["pointer": "/rows", "max_rows": .int(Int64(settings.maxCSVRows))])
        }
        let delimiter = try input.delimiter()
        let writeHeader = try input.bool("header", default: true)
        let createDirs = try input.bool("create_dirs", default: false)
        let overwrite = try input.bool("overwrite", default: true)
        let maxBytes = try input.maxBytes(setting: "max_write_bytes", settings.maxWriteBytes)
        var columns: [String]? = nil
        if let given = input.fields["columns"], !given.isNull {
            guard let names = given.arrayValue?.compactMap(\.stringValue), names.count == given.arrayValue?.count else {
                throw input.invalid("columns", "must be an array of strings")
            }
            if let d = Self.firstDuplicate(names) { throw input.invalid("columns", "names \"\(d)\" twice") }
            columns = names
        } else if let first = rows.first?.objectValue {
            columns = first.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        var bytes: [UInt8] = []
        if writeHeader, let columns { CSV.format(columns, delimiter: delimiter, into: &bytes) }
        for (n, row) in rows.enumerated() {
            CSV.format(try Self.csvFields(row, n, columns: columns, input: input), delimiter: delimiter, into: &bytes)
            if bytes.count > maxBytes { break }  // reported below, without building the rest
        }
        try requireWithin(bytes.count, maxBytes, path: path, what: "the CSV text")
        var out: [String: JSONValue] = ["path": .string(path.text), "row_count": .int(Int64(rows.count)),
                                        "size": .int(Int64(bytes.count))]
        if try input.bool("sha256", default: false) { out["sha256"] = .string(SHA256.hex(bytes)) }
        if dryRun {
            try previewReplace(path, createDirs: createDirs, action: "write", noReplace: !overwrite)
            out["dry_run"] = true
            return .object(out)
        }
        let parent = try openParent(path, create: createDirs, action: "write")
        defer { close(parent) }
        try replaceAtomically(parent: parent, path: path, noReplace: !overwrite) { fd in FileIO.writeAll(fd, bytes) }
        return .object(out)
    }

    /// The text of each value of row `n`.
    private static func csvFields(_ row: JSONValue, _ n: Int, columns: [String]?, input: OpInput) throws(CallFailure) -> [String] {
        let pointer = "rows/\(n)"
        func text(_ v: JSONValue, _ at: String) throws(CallFailure) -> String {
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return b ? "true" : "false"
            case .null: return ""
            case .array, .object: throw input.invalid(at, "must be a string, number, boolean or null, not \(v.typeName)")
            }
        }
        switch row {
        case .array(let values):
            var out: [String] = []
            for (i, v) in values.enumerated() { out.append(try text(v, "\(pointer)/\(i)")) }
            return out
        case .object(let o):
            guard let columns else { throw input.invalid(pointer, "is an object, but no columns are known") }
            if let extra = o.keys.sorted().first(where: { !columns.contains($0) }) {
                throw input.invalid(pointer, "has key \"\(extra)\", which is not among the columns")
            }
            var out: [String] = []
            for c in columns { out.append(try text(o[c] ?? .null, "\(pointer)/\(c)")) }
            return out
        default:
            throw input.invalid(pointer, "must be an array or an object, not \(row.typeName)")
        }
    }

    static func firstDuplicate(_ names: [String]) -> String? {
        var seen = Set<String>()
        return names.first { !seen.insert($0).inserted }
    }
}

extension OpInput {
    /// `delimiter`: one ASCII character other than a quote or a line end (default ",").
    func delimiter() throws(CallFailure) -> UInt8 {
        let text = try string("delimiter", default: ",")
        let bytes = Array(text.utf8)
        guard bytes.count == 1, bytes[0] < 0x80, bytes[0] != UInt8(ascii: "\""), bytes[0] != 10, bytes[0] != 13 else {
            throw invalid("delimiter", "must be one ASCII character other than a quote or a line end")
        }
        return bytes[0]
    }
}
