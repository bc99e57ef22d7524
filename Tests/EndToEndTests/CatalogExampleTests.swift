import Foundation
import JALMCapsule
import JALMWire
import Testing

/// Every step card's examples run through the real daemon, so the catalog is documentation that cannot drift.
@Suite(.serialized) struct CatalogExampleTests {
    @Test func everyCardHasAnExampleAndEveryExamplePasses() throws {
        let catalog = try Catalog.load(directory: Daemon.repoDir + "/kernel")
        // The servers the examples name in `needs:`, started on loopback for this run.
        let services = try TestServices.start(Set(catalog.cards.flatMap { $0.examples.flatMap(\.needs) }))
        defer { for s in services.values { s.stop() } }
        let daemon = try Daemon(config: TestServices.daemonConfig(Array(services.values)),
                                secrets: services.values.reduce(into: [:]) { $0.merge($1.secrets) { a, _ in a } })
        let vars = services.values.reduce(into: [String: JSONValue]()) { $0.merge($1.vars) { a, _ in a } }
        var checked = 0
        for card in catalog.cards {
            #expect(!card.examples.isEmpty, "\(card.layer).\(card.op) has no example")
            for example in card.examples {
                try check(example, of: card, on: daemon, vars: vars)
                checked += 1
            }
        }
        #expect(checked >= catalog.cards.count)
    }

    private func check(_ example: StepExample, of card: StepCard, on daemon: Daemon, vars: [String: JSONValue]) throws {
        let label = "\(card.layer).\(card.op): \(example.name)"
        var steps: [JSONValue] = example.before.enumerated().map { i, call in
            ["id": .string("before\(i)"), "layer": .string(card.layer), "op": .string(call.op), "input": call.input]
        }
        steps.append(["id": "example", "layer": .string(card.layer), "op": .string(card.op), "input": example.input,
                      "retry": ["max": 0]])
        let (status, view) = try daemon.request("POST", "/exec?wait=30", json: ["intent": .string(label), "vars": .object(vars), "steps": .array(steps)])
        if let expected = example.expectedError {
            if status == 422 {
                #expect(expected == .invalidInput && view["code"] == "invalid_input", "\(label): \(view)")
                return
            }
            #expect(view["state"] == "failed", "\(label): \(view)")
            let code = view["steps"]?[steps.count - 1]?["error"]?["code"]?.stringValue
            #expect(code == expected.rawValue, "\(label): expected \(expected.rawValue), got \(view)")
            return
        }
        #expect(status == 200 && view["state"] == "completed", "\(label): \(view)")
        let output = view["outputs"]?["example"] ?? .null
        if let mismatch = example.check(output: output) {
            Issue.record("\(label): \(mismatch)")
        }
    }
}
