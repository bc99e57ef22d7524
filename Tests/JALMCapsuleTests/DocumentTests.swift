import JALMCapsule
import JALMCore
import JALMDocument
import JALMWire
import Testing

@Suite struct DocumentTests {
    @Test func jsonContentTypeParsesJSON() throws {
        let value = try Document.parse(Array(#"{"intent":"x","n":1}"#.utf8), contentType: "application/json")
        #expect(value == ["intent": "x", "n": 1])
    }

    @Test func untypedBodyStartingWithBraceIsJSON() {
        #expect(Document.syntax(of: Array("  \n{\"a\":1}".utf8), contentType: nil) == .json)
        #expect(Document.syntax(of: Array("[1]".utf8), contentType: "text/plain") == .json)
    }

    @Test func untypedBodyOtherwiseIsYAML() {
        #expect(Document.syntax(of: Array("intent: x".utf8), contentType: nil) == .yaml)
    }

    @Test func yamlContentTypeForcesYAMLEvenForFlowMappings() throws {
        #expect(Document.syntax(of: Array("{a: 1}".utf8), contentType: "application/x-yaml") == .yaml)
        #expect(try Document.parse(Array("{a: 1}".utf8), contentType: "text/yml") == ["a": 1])
    }

    @Test func badJSONNamesTheByteOffset() {
        expectInvalid(at: "", "at byte 5") {
            _ = try Document.parse(Array(#"{"a":}"#.utf8), contentType: "application/json")
        }
    }

    @Test func yamlScalarsBecomeTypedValues() throws {
        let value = try yaml("""
            i: 42
            neg: -7
            hex: 0x1F
            f: 1.5
            e: 2e3
            t: true
            n: null
            tilde: ~
            s: hello
            quoted: "42"
            norway: no
            version: 1.2.3
            """)
        #expect(value == ["i": 42, "neg": -7, "hex": 31, "f": 1.5, "e": 2000.0, "t": true, "n": nil, "tilde": nil,
                          "s": "hello", "quoted": "42", "norway": "no", "version": "1.2.3"])
    }

    @Test func yamlSequencesAndNestedMappings() throws {
        #expect(try yaml("a:\n  - 1\n  - b: [x, y]\n") == ["a": [1, ["b": ["x", "y"]]]])
    }

    @Test func yamlCapsuleParses() throws {
        let doc = try yaml("""
            intent: greet
            steps:
              - id: hello
                layer: io-file
                op: write
                input:
                  path: notes/a.txt
                  content: "hi"
            """)
        let capsule = try CapsuleParser.parse(doc)
        #expect(capsule.intent == "greet")
        #expect(capsule.steps.first?.input == ["path": "notes/a.txt", "content": "hi"])
    }

    @Test func badYAMLNamesLineAndColumn() {
        expectInvalid(at: "", "line 2") {
            _ = try yaml("a: [1, 2\nb: c: d\n")
        }
    }

    @Test func emptyYAMLIsNull() throws {
        #expect(try yaml("") == .null)
    }

    @Test func yamlDepthBombIsRefusedBeforeComposing() {
        let bomb = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectInvalid(at: "", "deeper than 512") { _ = try yaml(bomb) }
    }

    @Test func yamlJustOverTheDepthLimitIsRefused() {
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        expectInvalid(at: "", "deeper than 512") { _ = try yaml(deep) }
    }

    @Test func yamlAtTheDepthLimitIsAccepted() throws {
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try yaml(deep) != .null)
    }

    @Test func jsonDepthBombIsRefused() {
        let bomb = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        expectInvalid(at: "") { _ = try Document.parse(Array(bomb.utf8), contentType: "application/json") }
    }

    @Test func yamlAliasBombIsRefused() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(i): &a\(i) [\(refs)]")
        }
        expectInvalid(at: "", "more than 1000000 nodes") { _ = try yaml(lines.joined(separator: "\n")) }
    }

    @Test func yamlSmallAliasesExpand() throws {
        #expect(try yaml("base: &b {x: 1}\ncopy: *b\n") == ["base": ["x": 1], "copy": ["x": 1]])
    }

    @Test func yamlAliasAsMappingKeyIsRefused() {
        expectInvalid(at: "", "alias may not be a mapping key") { _ = try yaml("a: &k [1, 2]\n*k : 3\n") }
    }

    @Test func yamlCollectionKeyIsRefused() {
        expectInvalid(at: "", "mapping keys must be strings") { _ = try yaml("[1, 2]: 3\n") }
    }

    @Test func yamlAliasInsideAKeyIsRefused() {
        expectInvalid(at: "", "may not hold an alias") { _ = try yaml("a: &k [1, 2]\n[*k, 1]: 3\n") }
    }

    @Test func yamlExplicitKeyIsRefused() {
        expectInvalid(at: "", "explicit") { _ = try yaml("? a\n: b\n") }
    }

    @Test func yamlTextThatLooksLikeKeysIsAccepted() throws {
        let value = try yaml("a: \"[docs]: here\"\nb: is it ok ? yes\nc: 2 * 3\n")
        #expect(value == ["a": "[docs]: here", "b": "is it ok ? yes", "c": "2 * 3"])
    }

    @Test func yamlInfinityHasNoJSONForm() {
        expectInvalid(at: "", ".inf") { _ = try yaml("x: .inf\n") }
    }
}

@Suite struct YAMLStackSafetyTests {
    @Test func compactSequencesDeeperThanLibYAMLAllowsAreRefusedWithoutCrashing() {
        let line = String(repeating: "- ", count: 100_000) + "x"
        expectInvalid(at: "", "deeper than 512") { _ = try yaml(line) }
    }

    @Test func blockNestingBetweenOurLimitAndLibYAMLsIsRefusedByTheConverter() {
        let line = String(repeating: "- ", count: 900) + "x"
        expectInvalid(at: "", "deeper than 512") { _ = try yaml(line) }
    }
}
