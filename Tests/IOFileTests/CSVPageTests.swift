#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMWire
import Testing
@testable import jalm_layer_io_file

/// `csv.read` with `offset` and `limit`: one page of rows at a time, read in chunks from the offset.
@Suite struct CSVPageTests {
    /// Files with quoted fields, embedded newlines, CRLF and LF, blank lines, a BOM, a last line without a
    /// line end; each has the same number of fields in every row, so it reads with a header too.
    static let corpus: [String: String] = [
        "people.csv": "id,name\r\n1,\"Doe, Jane\"\r\n2,Bob\r\n",
        "mixed.csv": "a,b\n\"x\ny\",2\n\"q\"\"q\",3\n\n\n4,\"\"\r\n5,6",
        "bom.csv": "\u{FEFF}h1,h2\r\n\r\n1,2\r\n\"multi\r\nline\",3\r\n\r\n",
        "generated.csv": generated(rows: 120),
        "header-only.csv": "h\n",
        "empty.csv": "",
        "blank.csv": "\n\r\n\n",
        "one-column.csv": "c\n\"\"\n\n\"\"\nx",
    ]

    /// A header and `rows` rows of three fields drawn from awkward values, with LF and CRLF line ends, blank
    /// lines now and then, a BOM, and no line end after the last row.
    static func generated(rows: Int) -> String {
        let values = ["plain", "", "a,b", "say \"hi\"", "multi\nline", "cr\r\nlf", "ünï", " sp ", "\"", "x\ry"]
        func field(_ v: String) -> String {
            v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                ? "\"" + v.replacing("\"", with: "\"\"") + "\"" : v
        }
        var text = "\u{FEFF}one,two,three\n"
        for n in 0..<rows {
            text += (0..<3).map { field(values[(n * 7 + $0 * 3) % values.count]) }.joined(separator: ",")
            if n < rows - 1 { text += n % 3 == 0 ? "\r\n" : "\n" }
            if n % 11 == 5 { text += n % 2 == 0 ? "\n" : "\r\n\r\n" }
        }
        return text
    }

    struct Paged {
        var columns: JSONValue?
        var rows: [JSONValue] = []
        var pages = 0
    }

    /// Reads `path` page by page, checking each page's `next_offset` and `more` on the way.
    static func readPages(_ f: Fixture, _ path: String, header: Bool, limit: Int, chunk: Int, bytes: [UInt8]) throws -> Paged {
        let size = bytes.count
        var paged = Paged()
        var offset = 0
        while true {
            let input: JSONValue = ["path": .string(path), "header": .bool(header), "offset": .int(Int64(offset)),
                                    "limit": .int(Int64(limit))]
            let out = try f.handler.readCSV(input, chunkBytes: chunk)
            paged.pages += 1
            if header { #expect(paged.columns == nil || paged.columns == out["columns"]) }
            paged.columns = out["columns"]
            let rows = out["rows"]?.arrayValue ?? []
            #expect(out["row_count"]?.intValue == Int64(rows.count))
            paged.rows += rows
            let next = Int(out["next_offset"]?.intValue ?? -1)
            guard out["more"] == true else {
                #expect(next == size, "\(path): the last page ends at the file's end")
                return paged
            }
            #expect(rows.count == limit, "\(path): a page with more after it is full")
            // Just after the line end of the last row: where one scan of the whole file ends after as many records.
            let start = bytes.starts(with: CSV.byteOrderMark) ? 3 : 0
            let records = paged.rows.count + (header ? 1 : 0)
            let end = try CSV.scan(bytes, from: start, line: 1, delimiter: 44, maxRecords: records, final: true).get().end
            #expect(next == end, "\(path): next_offset after \(records) records")
            offset = next
            if paged.pages > 10_000 { Issue.record("\(path): no end"); return paged }
        }
    }

    @Test(arguments: [1, 3, 17, CSVWindow.chunkBytes])
    func pagesConcatenateToTheWholeFileRead(chunk: Int) throws {
        let f = try Fixture()
        for (name, text) in Self.corpus.sorted(by: { $0.key < $1.key }) {
            try f.writeRaw(f.root + "/" + name, Array(text.utf8))
            for header in [true, false] {
                let whole = try f.handler.readCSV(["path": .string(name), "header": .bool(header)])
                for limit in [1, 2, 7, 1000] {
                    let paged = try Self.readPages(f, name, header: header, limit: limit, chunk: chunk, bytes: Array(text.utf8))
                    let label = "\(name) header \(header) limit \(limit) chunk \(chunk)"
                    #expect(JSONValue.array(paged.rows) == whole["rows"], "\(label)")
                    #expect(paged.columns == whole["columns"], "\(label)")
                    let rows = whole["rows"]?.arrayValue?.count ?? 0
                    #expect(paged.pages == max(1, (rows + limit - 1) / limit), "\(label): no empty page at the end")
                }
            }
        }
    }

    @Test func theHeaderIsReadFromTheStartAndAnOffsetWithinItIsTheFirstRow() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("\u{FEFF}id,name\r\n1,a\r\n2,b\r\n".utf8))  // the header ends at 12
        for offset: Int64 in [0, 1, 5, 12] {
            let out = try await f.call("csv.read", ["path": "t.csv", "offset": .int(offset), "limit": 1])
            #expect(out == ["columns": ["id", "name"], "rows": [["id": "1", "name": "a"]], "row_count": 1,
                            "next_offset": 17, "more": true], "offset \(offset)")
        }
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 17, "limit": 1])
            == ["columns": ["id", "name"], "rows": [["id": "2", "name": "b"]], "row_count": 1, "next_offset": 22, "more": false])
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 22, "limit": 1])
            == ["columns": ["id", "name"], "rows": [], "row_count": 0, "next_offset": 22, "more": false])
        // Without a header the BOM is skipped at offset 0 only, and every row is data.
        #expect(try await f.call("csv.read", ["path": "t.csv", "header": false, "limit": 1])
            == ["rows": [["id", "name"]], "row_count": 1, "next_offset": 12, "more": true])
    }

    @Test func offsetAndLimitAtTheirEdges() async throws {
        var settings = IOFileSettings()
        settings.maxCSVRows = 3
        let f = try Fixture(settings: settings)
        try f.writeRaw(f.root + "/t.csv", Array("h\n1\n2\n3\n".utf8))
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 8])["rows"] == [])
        let past = await f.failure("csv.read", ["path": "t.csv", "offset": 9, "limit": 1])
        #expect(past?.code == .invalidInput && past?.details?["pointer"] == "/offset" && past?.details?["size"] == 8)
        #expect(await f.failure("csv.read", ["path": "t.csv", "offset": -1])?.code == .invalidInput)
        #expect(await f.failure("csv.read", ["path": "t.csv", "offset": "0"])?.code == .invalidInput)
        #expect(await f.failure("csv.read", ["path": "t.csv", "limit": 0])?.code == .invalidInput)
        let over = await f.failure("csv.read", ["path": "t.csv", "limit": 4])
        #expect(over?.code == .invalidInput && over?.message.contains("max_csv_rows") == true)
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 3])["more"] == false)
        // More rows than the limit is not an error; more than max_rows still is.
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 2])["more"] == true)
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 2, "max_rows": 2])["row_count"] == 2)
        let rows = await f.failure("csv.read", ["path": "t.csv", "limit": 3, "max_rows": 2])
        #expect(rows?.code == .resourceExhausted && rows?.message.contains("max_rows") == true)
        // `offset` alone reads to the end.
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 4])
            == ["columns": ["h"], "rows": [["h": "2"], ["h": "3"]], "row_count": 2, "next_offset": 8, "more": false])
        #expect(await f.failure("csv.read", ["path": "t.csv", "offset": 2, "max_rows": 2])?.code == .resourceExhausted)
    }

    @Test func maxBytesBoundsTheHeaderAndThePageAtItsEdge() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("h\n1\n2\n3\n".utf8))
        // Header (2 bytes) and two rows (4 bytes) fit 6 bytes, not 5; the last page (2 + 2) fits 4, not 3.
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 2, "max_bytes": 6])["next_offset"] == 6)
        let first = await f.failure("csv.read", ["path": "t.csv", "limit": 2, "max_bytes": 5])
        #expect(first?.code == .resourceExhausted && first?.message.contains("max_bytes") == true)
        #expect(first?.details?["max_bytes"] == 5 && first?.details?["offset"] == 0)
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 6, "limit": 2, "max_bytes": 4])
            == ["columns": ["h"], "rows": [["h": "3"]], "row_count": 1, "next_offset": 8, "more": false])
        #expect(await f.failure("csv.read", ["path": "t.csv", "offset": 6, "limit": 2, "max_bytes": 3])?.code == .resourceExhausted)
        let header = await f.failure("csv.read", ["path": "t.csv", "offset": 6, "limit": 2, "max_bytes": 1])
        #expect(header?.code == .resourceExhausted && header?.message.contains("header row") == true)
        // One record larger than max_bytes, with no header.
        try f.writeRaw(f.root + "/long.csv", Array(("a\n\"" + String(repeating: "x\n", count: 50) + "\"\nb\n").utf8))
        #expect(try await f.call("csv.read", ["path": "long.csv", "header": false, "limit": 1, "max_bytes": 2])["more"] == true)
        #expect(await f.failure("csv.read", ["path": "long.csv", "header": false, "offset": 2, "limit": 1, "max_bytes": 102])?.code
            == .resourceExhausted)
        #expect(try await f.call("csv.read", ["path": "long.csv", "header": false, "offset": 2, "limit": 1, "max_bytes": 103])["next_offset"] == 105)
    }

    @Test func nextOffsetIsJustAfterTheLastRowsLineEndNotPastTheBlankLinesAfterIt() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("h\r\n\"1\r\n\"\r\n\r\n\n2\n\n".utf8))
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 1])
            == ["columns": ["h"], "rows": [["h": "1\r\n"]], "row_count": 1, "next_offset": 10, "more": true])
        // The last row: no data row remains, so next_offset is the file's size.
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 10, "limit": 1])
            == ["columns": ["h"], "rows": [["h": "2"]], "row_count": 1, "next_offset": 16, "more": false])
    }

    /// When the bytes after a full page that would tell are beyond max_bytes, `more` is true; the next page
    /// then comes back empty, at the file's end.
    @Test func moreIsTrueWhenTheBudgetEndsBeforeItCanTell() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("h\n1\n\n".utf8))
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 1, "max_bytes": 4])
            == ["columns": ["h"], "rows": [["h": "1"]], "row_count": 1, "next_offset": 4, "more": true])
        #expect(try await f.call("csv.read", ["path": "t.csv", "offset": 4, "limit": 1, "max_bytes": 4])
            == ["columns": ["h"], "rows": [], "row_count": 0, "next_offset": 5, "more": false])
        // With room to look, blank lines after the last row do not count.
        #expect(try await f.call("csv.read", ["path": "t.csv", "limit": 1])["more"] == false)
    }

    @Test func errorsOnALaterPageNameItsLineAndRowWithinThePage() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/open.csv", Array("h\n1\n2\n\"open\n".utf8))
        let later = await f.failure("csv.read", ["path": "open.csv", "offset": 4, "limit": 5])
        #expect(later?.code == .invalidInput && later?.message.contains("line 2 of the page from byte 4") == true)
        #expect(later?.details?["line"] == 2 && later?.details?["offset"] == 4)
        let first = await f.failure("csv.read", ["path": "open.csv", "limit": 5])
        #expect(first?.message.contains(": line 4: a quoted field is not closed") == true)
        #expect(try await f.call("csv.read", ["path": "open.csv", "offset": 4, "limit": 1])["more"] == true)
        try f.writeRaw(f.root + "/ragged.csv", Array("a,b\n1,2\n3\n".utf8))
        let ragged = await f.failure("csv.read", ["path": "ragged.csv", "offset": 8, "limit": 1])
        #expect(ragged?.code == .invalidInput && ragged?.message.contains("data row 1 of the page from byte 8") == true)
        try f.writeRaw(f.root + "/dup.csv", Array("a,a\n1,2\n".utf8))
        #expect(await f.failure("csv.read", ["path": "dup.csv", "offset": 4, "limit": 1])?.code == .invalidInput)
    }

    @Test func aDryRunReadsThePageAsARealCall() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("h\n1\n2\n".utf8))
        let input: JSONValue = ["path": "t.csv", "limit": 1]
        #expect(try await f.dryRun("csv.read", input) == f.call("csv.read", input))
    }

    /// 6 MB through pages of 500 rows with max_read_bytes at 512 KiB, which refuses the whole-file read:
    /// each call reads its header row and its page, never the file. (Kept to 6 MB: the debug build parses
    /// about 0.5 MB/s with the rows turned into JSON.)
    @Test func aFileFarOverMaxReadBytesReadsPageByPage() async throws {
        var settings = IOFileSettings()
        settings.maxReadBytes = 512 * 1024
        let f = try Fixture(settings: settings)
        var text: [UInt8] = Array("id,name,note\n".utf8)
        var count = 0
        while text.count < 6_000_000 {
            text += Array("\(count),name-\(count),\(count % 7 == 0 ? "\"quoted,\nnote\"" : "plain")\r\n".utf8)
            count += 1
        }
        try f.writeRaw(f.root + "/big.csv", text)
        let whole = await f.failure("csv.read", ["path": "big.csv"])
        #expect(whole?.code == .resourceExhausted)
        var offset = 0
        var seen = 0
        while true {
            let out = try f.handler.readCSV(["path": "big.csv", "offset": .int(Int64(offset)), "limit": 500])
            let rows = out["rows"]?.arrayValue ?? []
            if seen == 0 { #expect(rows.first == ["id": "0", "name": "name-0", "note": "quoted,\nnote"]) }
            seen += rows.count
            offset = Int(out["next_offset"]?.intValue ?? 0)
            if out["more"] != true {
                #expect(rows.last?["id"] == .string(String(count - 1)))
                break
            }
        }
        #expect(seen == count && offset == text.count)
    }
}
