#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import JALMWire

extension IOFileHandler {
    /// One page of `csv.read`: the data rows from byte `offset` (default 0), at most `limit` of them (all to
    /// the end without it), read through a `CSVWindow` so that the file need not fit `max_bytes`, only the
    /// header row and the page do. Adds `next_offset`, the byte after the last row's line end (the file's
    /// size when no data row remains), and `more`, whether a data row remains after it.
    func readCSVPage(_ r: CSVReadRequest, chunkBytes: Int) throws(CallFailure) -> JSONValue {
        let (fd, st) = try openRegularFile(r.path, action: "read CSV from")
        defer { close(fd) }
        let size = Int(st.st_size)
        let offset = r.offset ?? 0
        guard offset <= size else {
            throw CallFailure(.invalidInput,
                              "cannot read \"\(r.path.text)\" as CSV from byte \(offset): the file has \(size) bytes",
                              details: ["path": .string(r.path.text), "pointer": "/offset",
                                        "offset": .int(Int64(offset)), "size": .int(Int64(size))])
        }
        let (start, columns, pageStart) = try csvPageWindow(fd, size: size, r, chunkBytes: chunkBytes)
        var window = start
        let records: [[String]]
        var next: Int
        var more = false
        do {
            records = try window.records(min(r.limit ?? .max, r.maxRows + 1), delimiter: r.delimiter)
            next = window.position  // just after the last row's line end
            if records.count == r.limit {
                more = try window.skipBlankLines()
                if !more { next = window.position }  // the file's end, past the blank lines
            }
        } catch {
            throw csvPageFailure(error, r, page: pageStart, header: false)
        }
        guard records.count <= r.maxRows else { throw tooManyCSVRows(r) }
        var out = try csvTable(records, columns: columns, r, page: pageStart)
        out["next_offset"] = .int(Int64(next))
        out["more"] = .bool(more)
        return .object(out)
    }

    /// A window at the page's first record, with the header row's columns (read from the file's start) and
    /// where the page starts when line and row numbers must count from there rather than the file's start.
    /// The window may read `max_bytes` less the header row's bytes.
    private func csvPageWindow(_ fd: Int32, size: Int, _ r: CSVReadRequest,
                               chunkBytes: Int) throws(CallFailure) -> (CSVWindow, [String]?, Int?) {
        let offset = r.offset ?? 0
        var head = CSVWindow(fd: fd, at: 0, budgetEnd: r.maxBytes, fileSize: size, chunkBytes: chunkBytes)
        var columns: [String]? = nil
        do {
            if offset == 0 || r.header { try head.skipByteOrderMark() }
            if r.header { columns = try head.records(1, delimiter: r.delimiter).first ?? [] }
        } catch {
            throw csvPageFailure(error, r, page: nil, header: r.header)
        }
        if let columns { try requireDistinct(columns, r) }
        // With a header, an offset within it means the first data row, which follows in the same window.
        if offset == 0 || (r.header && offset <= head.position) { return (head, columns, nil) }
        let window = CSVWindow(fd: fd, at: offset, budgetEnd: offset + r.maxBytes - (r.header ? head.position : 0),
                               fileSize: size, chunkBytes: chunkBytes)
        return (window, columns, offset)
    }

    /// The failure for a window that stopped reading the header row or the page from `page` (nil: the
    /// file's start, so line numbers are the file's).
    private func csvPageFailure(_ stop: CSVWindow.Stop, _ r: CSVReadRequest, page: Int?, header: Bool) -> CallFailure {
        let offset = r.offset ?? 0
        var details: [String: JSONValue] = ["path": .string(r.path.text)]
        if !header { details["offset"] = .int(Int64(offset)) }
        switch stop {
        case .malformed(let m):
            details["line"] = .int(Int64(m.line))
            let line = page.map { "line \(m.line) of the page from byte \($0)" } ?? "line \(m.line)"
            return CallFailure(.invalidInput, "cannot read \"\(r.path.text)\" as CSV: \(line): \(m.message)",
                               details: .object(details))
        case .overBudget:
            details["max_bytes"] = .int(Int64(r.maxBytes))
            let what = header ? "its header row does not fit"
                : r.limit == nil ? "the rows from byte \(offset) to the end do not fit, with the header row,"
                : "the page of up to \(r.limit ?? 0) rows from byte \(offset) does not fit, with the header row,"
            return CallFailure(.resourceExhausted,
                               "cannot read \"\(r.path.text)\" as CSV: \(what) in the max_bytes limit of \(r.maxBytes) bytes",
                               retryable: false, details: .object(details))
        case .failed(let e):
            return Errno.failure(e.value, "read CSV from", r.path.text)
        }
    }
}
