import Testing
@testable import JALMWire

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONParser.parse(#"{"a":[1,-2.5,true,false,null,"x\n\u00e9\ud83d\ude00"],"b":{}}"#)
        #expect(v == ["a": [1, -2.5, true, false, nil, "x\né😀"], "b": [:]])
    }

    @Test func keepsLargeIntegersExact() throws {
        #expect(try JSONParser.parse("9007199254740993") == .int(9_007_199_254_740_993))
    }

    @Test func refusesTenThousandNestedArraysWithoutCrashing() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func acceptsNestingAtTheLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try JSONParser.parse(ok)
        let over = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(over) }
    }

    @Test func refusesInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]  // "\xC3(" : a broken two-byte sequence
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bytes) }
    }

    @Test func refusesUnpairedSurrogates() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#""\ud800""#) }
    }

    @Test func refusesTrailingGarbageAndBadLiterals() {
        for text in ["{} x", "tru", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\""] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func writerOutputParsesBackToTheSameValue() throws {
        let v: JSONValue = ["s": "q\"uote\\ \t\u{01}", "n": 1.5, "i": -3, "a": [nil, true], "o": ["k": "v"]]
        #expect(try JSONParser.parse(JSONWriter.bytes(v)) == v)
    }
}
