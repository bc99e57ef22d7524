import JALMCapsule
import JALMCore
import JALMDocument
import JALMWire
import Testing

/// Expects `body` to fail with `invalid_input` at exactly `pointer`, with `text` in the message when given.
func expectInvalid(at pointer: String, _ text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void)
{
    do {
        try body()
        Issue.record("expected invalid_input at \(pointer), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RunnerError {
        #expect(error.code == .invalidInput, "\(error)", sourceLocation: sourceLocation)
        #expect(error.pointer == pointer, "\(error)", sourceLocation: sourceLocation)
        if let text { #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(text)
}

func yaml(_ text: String) throws -> JSONValue {
    try Document.parse(Array(text.utf8), contentType: "application/yaml")
}

/// A capsule object with one step per `(id, layer.op, input)`.
func capsuleJSON(_ steps: [(String, String, JSONValue)], vars: JSONValue? = nil) -> JSONValue {
    var o: [String: JSONValue] = [
        "intent": "test",
        "steps": .array(steps.map { id, qualified, input in
            let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
            return ["id": .string(id), "layer": .string(parts[0]), "op": .string(parts[1]), "input": input]
        }),
    ]
    if let vars { o["vars"] = vars }
    return .object(o)
}
