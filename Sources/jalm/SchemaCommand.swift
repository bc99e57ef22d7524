import ArgumentParser
import JALMCapsule
import JALMWire

/// `jalm schema`: the capsule's JSON Schema, offline (the same document as `GET /schema/capsule.json`).
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the capsule's JSON Schema (draft 2020-12), for editors and other tools.",
        discussion: """
            The schema checks a capsule's structure: its keys, their types and ranges. What needs the op \
            catalog or the expr parser (ops, input schemas, templates, conditions) is checked by jalm lint.

            Examples:
              jalm schema > capsule.schema.json
            """)

    func run() throws {
        print(JSONWriter.pretty(CapsuleSchema.json))
    }
}
