import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// The view written straight to bytes is the JSON view, byte for byte, in every state of recorded runs.
@Suite struct ViewTests {
    @Test(arguments: CrashPointTests.scenarios)
    func theBytesAreTheSortedJSONOfTheView(_ scenario: CrashPointTests.Scenario) throws {
        let sim = scenario.simulator
        let full = sim.run()
        for count in 0...full.journal.count {
            var m = ExecutionMachine(id: Fixtures.id, plan: sim.plan)
            m.fold(Array(full.journal.prefix(count)))
            for header in [ExecutionView.Header(id: Fixtures.id, intent: "t"),
                           ExecutionView.Header(id: Fixtures.id, intent: "t \"quoted\"", idempotencyKey: "k-1")] {
                let expected = JSONWriter.bytes(ExecutionView.json(header, machine: m), sortedKeys: true)
                #expect(ExecutionView.bytes(header, machine: m) == expected, "after \(count) events")
                var withID = ExecutionView.json(header, machine: m)
                if case .object(var o) = withID { o["execution_id"] = .string(header.id); withID = .object(o) }
                #expect(ExecutionView.bytes(header, machine: m, executionID: true)
                        == JSONWriter.bytes(withID, sortedKeys: true))
            }
        }
    }
}
