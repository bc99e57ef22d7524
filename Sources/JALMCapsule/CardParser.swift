import JALMCore
import JALMDocument
import JALMWire

/// One `step_cards/<layer>.<op>.yml` file into a `StepCard`.
enum CardParser {
    static let keys: Set<String> = ["layer", "op", "summary", "side_effect", "io_type", "timeout", "input", "output",
                                    "examples", "idempotent"]
    /// The timeout of an op whose card does not state one.
    static let defaultTimeoutMs: Int64 = 30_000

    static func parse(_ bytes: [UInt8], file: String) throws(CatalogError) -> StepCard {
        let document: JSONValue
        do { document = try Document.parse(bytes, contentType: "application/yaml") } catch {
            throw CatalogError(file: file, error.message)
        }
        guard case .object(let o) = document else { throw CatalogError(file: file, "a card must be a mapping") }
        if let unknown = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw CatalogError(file: file, field: unknown, "unknown card key")
        }
        let f = Fields(object: o, file: file)
        var card = StepCard(
            layer: try f.string("layer"), op: try f.string("op"), summary: try f.string("summary"),
            sideEffect: try f.sideEffect(), ioType: try f.string("io_type"), defaultTimeoutMs: try f.timeout(),
            inputSchema: try f.schema("input"), outputSchema: try f.schema("output"),
            examples: try ExampleParser.parse(o["examples"], file: file))
        switch o["idempotent"] {
        case nil: break
        case .bool(let b)?: card.idempotent = b
        default: throw CatalogError(file: file, field: "idempotent", "must be true or false")
        }
        guard file.hasSuffix("/\(card.qualifiedName).yml") || file.hasSuffix("/\(card.qualifiedName).yaml") else {
            throw CatalogError(file: file, "the card describes \(card.qualifiedName); its file must be named after it")
        }
        try ExampleParser.checkAgainstSchemas(card, file: file)
        return card
    }

    struct Fields {
        var object: [String: JSONValue]
        var file: String

        func string(_ key: String) throws(CatalogError) -> String {
            guard let text = object[key]?.stringValue, !text.isEmpty else {
                throw CatalogError(file: file, field: key, "must be a non-empty string")
            }
            return text
        }

        func sideEffect() throws(CatalogError) -> SideEffect {
            guard let effect = SideEffect(rawValue: try string("side_effect")) else {
                throw CatalogError(file: file, field: "side_effect", "must be none, read, write or external")
            }
            return effect
        }

        func timeout() throws(CatalogError) -> Int64 {
            guard let value = object["timeout"] else { return CardParser.defaultTimeoutMs }
            guard let ms = DurationText.parseMilliseconds(value), ms > 0, ms <= DurationText.maxMilliseconds else {
                throw CatalogError(file: file, field: "timeout", "must be a duration from 1ms to 24h, like 30s")
            }
            return ms
        }

        func schema(_ key: String) throws(CatalogError) -> JSONValue {
            guard let schema = object[key] else { throw CatalogError(file: file, field: key, "is required") }
            do { try JSONSchema.checkSchema(schema) } catch {
                throw CatalogError(file: file, field: key + error.pointer.description, error.message)
            }
            return schema
        }
    }
}
