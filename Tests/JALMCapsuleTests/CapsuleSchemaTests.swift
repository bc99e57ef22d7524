import Foundation
@testable import JALMCapsule
import JALMWire
import Testing

/// The published capsule schema is made from the parser's key tables: every key the parser accepts has a
/// schema, and the shipped file is what the code generates.
@Suite struct CapsuleSchemaTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func everyKeyTheParserAcceptsHasASchemaAndNoOtherKeyIsAllowed() {
        let defs = CapsuleSchema.json["$defs"]
        let tables: [(String, Set<String>)] = [
            ("capsule", CapsuleParser.topLevelKeys), ("step", StepParser.keys), ("retry", RetryParser.keys),
            ("expectation", OutputExpectation.keys),
        ]
        for (def, keys) in tables {
            let properties = defs?[def]?["properties"]?.objectValue ?? [:]
            #expect(Set(properties.keys) == keys, "\(def)")
            #expect(defs?[def]?["additionalProperties"] == false, "\(def)")
            for (key, schema) in properties {
                #expect(schema["description"]?.stringValue?.contains("no schema written") != true, "\(def).\(key)")
            }
        }
        #expect(!StepParser.keys.contains { StepParser.reservedKeys.contains($0) })
    }

    @Test func theShippedFileIsWhatTheCodeGenerates() throws {
        let shipped = try String(contentsOfFile: Self.repo + "/schema/capsule.schema.json", encoding: .utf8)
        #expect(shipped == JSONWriter.pretty(CapsuleSchema.json) + "\n",
                "schema/capsule.schema.json is stale: run `jalm schema > schema/capsule.schema.json`")
    }
}
