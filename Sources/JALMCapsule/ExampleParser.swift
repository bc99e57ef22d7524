import JALMCore
import JALMWire

/// The `examples:` list of a card.
enum ExampleParser {
    static let keys: Set<String> = ["name", "before", "input", "output", "match", "error", "needs"]

    static func parse(_ value: JSONValue?, file: String) throws(CatalogError) -> [StepExample] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            throw CatalogError(file: file, field: "examples", "must be a list")
        }
        var examples: [StepExample] = []
        for (i, item) in items.enumerated() {
            examples.append(try example(item, file: file, field: "examples/\(i)"))
        }
        return examples
    }

    static func example(_ value: JSONValue, file: String, field: String) throws(CatalogError) -> StepExample {
        guard case .object(let o) = value else { throw CatalogError(file: file, field: field, "must be a mapping") }
        func fail(_ key: String, _ message: String) -> CatalogError {
            CatalogError(file: file, field: "\(field)/\(key)", message)
        }
        if let unknown = o.keys.sorted().first(where: { !keys.contains($0) }) { throw fail(unknown, "unknown key") }
        guard let name = o["name"]?.stringValue else { throw fail("name", "must be a string") }
        let input = o["input"] ?? .object([:])
        guard case .object = input else { throw fail("input", "must be a mapping") }
        var example = StepExample(name: name, before: try calls(o["before"], fail), input: input,
                                  expectedOutput: o["output"])
        if let needs = o["needs"] {
            guard let names = needs.arrayValue?.compactMap(\.stringValue), names.count == needs.arrayValue?.count else {
                throw fail("needs", "must be a list of server names")
            }
            example.needs = names
        }
        switch o["match"] {
        case nil, .string("exact"): break
        case .string("subset"): example.matchSubset = true
        default: throw fail("match", "must be exact or subset")
        }
        if let error = o["error"] {
            guard let code = error.stringValue.flatMap(ErrorCode.init(rawValue:)) else {
                throw fail("error", "must be an error code such as invalid_input")
            }
            example.expectedError = code
        }
        guard (example.expectedOutput == nil) != (example.expectedError == nil) else {
            throw CatalogError(file: file, field: field, "an example states either output or error, not both or neither")
        }
        return example
    }

    static func calls(_ value: JSONValue?, _ fail: (String, String) -> CatalogError) throws(CatalogError)
        -> [StepExample.Call]
    {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw fail("before", "must be a list") }
        var calls: [StepExample.Call] = []
        for (i, item) in items.enumerated() {
            guard let op = item["op"]?.stringValue else { throw fail("before/\(i)/op", "must be a string") }
            let input = item["input"] ?? .object([:])
            guard case .object = input else { throw fail("before/\(i)/input", "must be a mapping") }
            calls.append(.init(op: op, input: input))
        }
        return calls
    }

    /// An example that expects an output must itself obey the card: its input the input schema and, when
    /// matched exactly, its output the output schema. Otherwise the card contradicts itself.
    static func checkAgainstSchemas(_ card: StepCard, file: String) throws(CatalogError) {
        for (i, example) in card.examples.enumerated() where example.expectedOutput != nil {
            let field = "examples/\(i)"
            do {
                try JSONSchema.validate(example.input, against: card.inputSchema, at: .root.appending("input"))
                if !example.matchSubset, let output = example.expectedOutput {
                    try JSONSchema.validate(output, against: card.outputSchema, at: .root.appending("output"))
                }
            } catch {
                throw CatalogError(file: file, field: field + (error.pointer ?? ""), "breaks the card: \(error.message)")
            }
        }
    }
}
