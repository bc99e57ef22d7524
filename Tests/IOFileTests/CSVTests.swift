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
}
