import Testing
@testable import jalm_layer_io_file

@Suite struct CSVTests {
    func parse(_ text: String, max: Int = 100) -> Result<[[String]], CSV.ParseStop> {
        CSV.parse(Array(text.utf8), delimiter: UInt8(ascii: ","), maxRecords: max)
    }

    @Test func rfc4180Quoting() throws {
        #expect(try parse("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n").get() == [["a", "b"], ["x,1", "say \"hi\""]])
        #expect(try parse("\"multi\nline\",z\n").get() == [["multi\nline", "z"]])
        #expect(try parse("a,,\n").get() == [["a", "", ""]])
        #expect(try parse("\"\",b").get() == [["", "b"]])
    }

    @Test func bomBlankLinesAndMissingFinalNewline() throws {
        #expect(try parse("\u{FEFF}h\n\n1\n\r\n2").get() == [["h"], ["1"], ["2"]])
        #expect(try parse("").get() == [])
    }

    @Test func malformedInputNamesItsLine() {
        #expect(parse("a\n\"open,b\n") == .failure(.malformed(.init(line: 2, message: "a quoted field is not closed"))))
        guard case .failure(.malformed(let m)) = parse("a\n\"x\"y\n") else { Issue.record("accepted"); return }
        #expect(m.line == 2)
        guard case .failure(.malformed(let u)) = CSV.parse([0x61, 0x0A, 0xFF], delimiter: 44, maxRecords: 9) else {
            Issue.record("accepted invalid UTF-8"); return
        }
        #expect(u.line == 2 && u.message.contains("UTF-8"))
    }

    @Test func recordLimitAtItsEdge() throws {
        #expect(try parse("1\n2\n3\n", max: 3).get().count == 3)
        #expect(parse("1\n2\n3\n4\n", max: 3) == .failure(.tooMany))
    }

    @Test func formatQuotesOnlyWhatNeedsItAndRoundTrips() throws {
        var out: [UInt8] = []
        let rows = [["plain", "a,b", "q\"q", "line\nbreak", "cr\rx", ""], [""]]
        for r in rows { CSV.format(r, delimiter: UInt8(ascii: ","), into: &out) }
        #expect(String(decoding: out, as: UTF8.self)
            == "plain,\"a,b\",\"q\"\"q\",\"line\nbreak\",\"cr\rx\",\r\n\"\"\r\n")
        #expect(try CSV.parse(out, delimiter: UInt8(ascii: ","), maxRecords: 10).get() == rows)
    }

    func scan(_ text: String, from: Int = 0, max: Int = 100, final: Bool) -> CSV.Scan? {
        try? CSV.scan(Array(text.utf8), from: from, line: 1, delimiter: UInt8(ascii: ","), maxRecords: max, final: final).get()
    }

    @Test func scanStopsAfterMaxRecordsJustPastTheLineEnd() throws {
        #expect(scan("a\r\nb\r\n\nc\n", max: 2, final: true) == CSV.Scan(records: [["a"], ["b"]], end: 6, line: 3))
        #expect(scan("a\n\nb", max: 1, final: false) == CSV.Scan(records: [["a"]], end: 2, line: 2))
        // At the end of final bytes, `end` is their end, past blank lines and a last line without a line end.
        #expect(scan("a\n\n", final: true) == CSV.Scan(records: [["a"]], end: 3, line: 3))
        #expect(scan("a\nb", final: true) == CSV.Scan(records: [["a"], ["b"]], end: 3, line: 2))
        #expect(scan("x\na\n", from: 2, final: true) == CSV.Scan(records: [["a"]], end: 4, line: 2))
    }

    @Test func scanOfBytesThatAreNotFinalLeavesTheOpenRecord() throws {
        // No line end yet, a CR that may be the first half of a CRLF, a quote that may be doubled.
        #expect(scan("a\nb", final: false) == CSV.Scan(records: [["a"]], end: 2, line: 2))
        #expect(scan("a\r", final: false) == CSV.Scan(records: [], end: 0, line: 1))
        #expect(scan("a\n\r", final: false) == CSV.Scan(records: [["a"]], end: 2, line: 2))
        #expect(scan("a\n\"x\ny\"", final: false) == CSV.Scan(records: [["a"]], end: 2, line: 2))
        #expect(scan("\"x\"\"", final: false) == CSV.Scan(records: [], end: 0, line: 1))
        // Blank lines with nothing open are passed.
        #expect(scan("a\n\n\n", final: false) == CSV.Scan(records: [["a"]], end: 4, line: 4))
    }

    /// Split anywhere, resumed from `end` with every byte: the same records and the same error lines as one parse.
    @Test func aRecordSplitAtAnyByteParsesAsInOneScan() throws {
        let texts = ["\u{FEFF}id,name\r\n1,\"Doe, Jane\"\r\n\r\n2,\"multi\r\nline \"\"q\"\"\"\r\n3,\n",
                     "a,b\n\"x\ny\",2\n\n\n4,\"\"\r5,6", "\"\"\n\n\"\"", "h\n\"open\n", "h\n1\n\"x\"y\n"]
        for text in texts {
            let bytes = Array(text.utf8)
            let start = bytes.starts(with: CSV.byteOrderMark) ? 3 : 0
            let whole = CSV.scan(bytes, from: start, line: 1, delimiter: 44, maxRecords: .max, final: true)
            for split in start...bytes.count {
                let prefix = Array(bytes[..<split])
                let head: CSV.Scan
                switch CSV.scan(prefix, from: start, line: 1, delimiter: 44, maxRecords: .max, final: false) {
                case .success(let s): head = s
                case .failure(let m):
                    #expect(whole == .failure(m), "\(text.debugDescription) split at \(split)")
                    continue
                }
                #expect(head.end <= split)
                let rest = CSV.scan(bytes, from: head.end, line: head.line, delimiter: 44, maxRecords: .max, final: true)
                    .map { CSV.Scan(records: head.records + $0.records, end: $0.end, line: $0.line) }
                #expect(rest == whole, "\(text.debugDescription) split at \(split)")
            }
        }
    }
}
