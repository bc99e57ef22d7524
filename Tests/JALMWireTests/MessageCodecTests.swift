import Testing
@testable import JALMWire

@Suite struct MessageCodecTests {
    private func roundTrip(_ m: LayerMessage) throws -> LayerMessage {
        var out: [UInt8] = []
        m.encodeFrame(into: &out)
        return try Array(out.dropFirst(4)).withUnsafeBufferPointer { try LayerMessage.decode($0) }
    }

    private func roundTrip(_ m: KernelMessage) throws -> KernelMessage {
        var out: [UInt8] = []
        m.encodeFrame(into: &out)
        return try Array(out.dropFirst(4)).withUnsafeBufferPointer { try KernelMessage.decode($0) }
    }

    @Test func everyLayerMessageRoundTrips() throws {
        let messages: [LayerMessage] = [
            .hello(Hello(layer: "io-file", version: "1", ops: ["read"], pid: 42, maxInflight: 8)),
            .ok(id: 3, output: ["x": 1], meta: ["bytes": 2]),
            .err(id: 4, CallFailure(.timeout, "slow", details: ["ms": 5])),
            .ping(seq: 1), .pong(seq: 2), .log(LogRecord(level: "info", message: "m", fields: ["k": "v"])),
        ]
        for m in messages { #expect(try roundTrip(m) == m) }
    }

    @Test func everyKernelMessageRoundTrips() throws {
        let messages: [KernelMessage] = [
            .call(Call(id: 9, op: "sys.echo", input: ["a": [1, 2]], deadlineMs: 1000, traceID: "t",
                       idempotencyKey: "k", dryRun: true)),
            .cancel(id: 9), .ping(seq: 3), .pong(seq: 4), .drain,
        ]
        for m in messages { #expect(try roundTrip(m) == m) }
    }

    @Test func anUnknownErrorCodeFromAPluginBecomesInternal() throws {
        let body = Array(#"{"t":"err","id":1,"code":"weird","message":"m"}"#.utf8)
        let m = try body.withUnsafeBufferPointer { try LayerMessage.decode($0) }
        guard case .err(_, let f) = m else { Issue.record("not an err"); return }
        #expect(f.code == .internal)
        #expect(f.message.contains("weird"))
    }

    @Test func refusesMessagesWithoutTypeOrWithMissingFields() {
        for text in [#"{"id":1}"#, #"{"t":"ok"}"#, #"{"t":"hello","layer":"x"}"#, #"{"t":"nope"}"#, #"[1]"#,
                     #"{"t":"ok","id":-1}"#] {
            let body = Array(text.utf8)
            #expect(throws: (any Error).self, "\(text)") { try body.withUnsafeBufferPointer { try LayerMessage.decode($0) } }
        }
    }
}
