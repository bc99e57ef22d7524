import Testing
@testable import JALMWire

@Suite struct FrameDecoderTests {
    @Test func encodesTheGoldenFrame() {
        var out: [UInt8] = []
        KernelMessage.ping(seq: 7).encodeFrame(into: &out)
        let body = Array(#"{"t":"ping","seq":7}"#.utf8)
        #expect(out == [0, 0, 0, UInt8(body.count)] + body)
    }

    @Test func decodesFramesSplitAtEveryByte() throws {
        var stream: [UInt8] = []
        for i in 0..<3 { KernelMessage.ping(seq: UInt64(i)).encodeFrame(into: &stream) }
        var decoder = FrameDecoder()
        var seqs: [UInt64] = []
        for byte in stream {
            decoder.append([byte])
            while let body = try decoder.next() {
                if case .ping(let seq) = try body.withUnsafeBufferPointer({ try KernelMessage.decode($0) }) { seqs.append(seq) }
            }
        }
        #expect(seqs == [0, 1, 2])
        try decoder.finish()
    }

    @Test func refusesALengthOf2To31BeforeAllocating() {
        var decoder = FrameDecoder(maxFrameSize: Frame.defaultMaxSize)
        decoder.append([0x80, 0, 0, 0])
        #expect(throws: FrameError.oversize(length: 0x8000_0000, limit: Frame.defaultMaxSize)) { try decoder.next() }
    }

    @Test func refusesTheLargestLengthThatLooksNegativeAsSigned() {
        var decoder = FrameDecoder()
        decoder.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: FrameError.oversize(length: 0xFFFF_FFFF, limit: Frame.defaultMaxSize)) { try decoder.next() }
    }

    @Test func acceptsAFrameExactlyAtTheLimitAndRefusesOneByteMore() throws {
        var ok = FrameDecoder(maxFrameSize: 8)
        ok.append([0, 0, 0, 8] + Array("[1,2,33]".utf8))
        #expect(try ok.next() == Array("[1,2,33]".utf8))
        var over = FrameDecoder(maxFrameSize: 8)
        over.append([0, 0, 0, 9])
        #expect(throws: FrameError.self) { try over.next() }
    }

    @Test func reportsATruncatedStreamAtTheEnd() throws {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 10, 0x7B])
        #expect(try decoder.next() == nil)
        #expect(throws: FrameError.truncated(have: 5)) { try decoder.finish() }
    }

    @Test func aZeroLengthFrameIsAnEmptyBodyThatIsNotAMessage() throws {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 0])
        let body = try #require(try decoder.next())
        #expect(body.isEmpty)
        #expect(throws: JSONParser.Failure.self) { try body.withUnsafeBufferPointer { try LayerMessage.decode($0) } }
    }
}
