import Testing
import JALMWire
@testable import JALMCore

@Suite struct PeerPolicyTests {
    let hello = LayerMessage.hello(Hello(layer: "io-file", version: "1", ops: [], pid: 1, maxInflight: 1))

    @Test func helloIsTheOnlyMessageAcceptedBeforeHello() {
        #expect(PeerPolicy.check(hello, in: .awaitingHello, expectedLayer: "io-file", knownCall: { _ in true }) == .accept)
        let ok = LayerMessage.ok(id: 1, output: .null, meta: nil)
        #expect(PeerPolicy.check(ok, in: .awaitingHello, expectedLayer: "io-file", knownCall: { _ in true })
            != .accept)
    }

    @Test func aSecondHelloIsAViolation() {
        #expect(PeerPolicy.check(hello, in: .ready, expectedLayer: "io-file", knownCall: { _ in true }) != .accept)
    }

    @Test func aWrongProtocolOrLayerIsAViolation() {
        let wrong = LayerMessage.hello(Hello(layer: "io-file", version: "1", ops: [], protocolVersion: 2, pid: 1,
                                             maxInflight: 1))
        #expect(PeerPolicy.check(wrong, in: .awaitingHello, expectedLayer: "io-file", knownCall: { _ in true }) != .accept)
        #expect(PeerPolicy.check(hello, in: .awaitingHello, expectedLayer: "io-db", knownCall: { _ in true }) != .accept)
    }

    @Test func aReplyToAnUnknownCallIsAViolationAndToAKnownOneIsNot() {
        let ok = LayerMessage.ok(id: 5, output: .null, meta: nil)
        #expect(PeerPolicy.check(ok, in: .ready, expectedLayer: "x", knownCall: { $0 == 5 }) == .accept)
        #expect(PeerPolicy.check(ok, in: .ready, expectedLayer: "x", knownCall: { _ in false }) != .accept)
    }
}
