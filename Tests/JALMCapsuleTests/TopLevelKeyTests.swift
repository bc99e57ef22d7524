import JALMWire
import Testing
@testable import JALMCapsule

@Suite struct TopLevelKeyTests {
    @Test func anUnknownTopLevelKeyIsRefusedWithItsPointer() {
        let doc: JSONValue = ["var": ["x": 1], "steps": [["id": "a", "layer": "io-file", "op": "sys.echo"]]]
        do {
            _ = try CapsuleParser.parse(doc)
            Issue.record("a typo at the top level was accepted")
        } catch {
            #expect(error.pointer == "/var")
        }
    }

    @Test func theKnownTopLevelKeysAreAccepted() throws {
        let doc: JSONValue = ["intent": "i", "description": "d", "vars": [:], "secrets": [], "meta": [:],
                              "steps": [["id": "a", "layer": "io-file", "op": "sys.echo"]]]
        _ = try CapsuleParser.parse(doc)
    }
}
