import Foundation
import JALMWire
import Testing

/// One io-db step through a real daemon: its output, or its error code and message.
struct IODBStep {
    var output: JSONValue?
    var code: String?
    var error: JSONValue?
    var seconds: Double

    /// Runs `op` with `input` as a one-step capsule (no retries) and waits for it.
    static func run(_ daemon: Daemon, _ op: String, _ input: JSONValue, timeout: String? = nil) throws -> IODBStep {
        var step: [String: JSONValue] = ["id": "s", "layer": "io-db", "op": .string(op), "input": input, "retry": ["max": 0]]
        if let timeout { step["timeout"] = .string(timeout) }
        let start = Date()
        let (status, view) = try daemon.request("POST", "/exec?wait=60", json: ["intent": "io-db test", "steps": [.object(step)]], timeout: 70)
        let seconds = Date().timeIntervalSince(start)
        if status == 422 { return IODBStep(output: nil, code: view["code"]?.stringValue, error: view, seconds: seconds) }
        let error = view["steps"]?[0]?["error"]
        return IODBStep(output: view["outputs"]?["s"], code: error?["code"]?.stringValue, error: error, seconds: seconds)
    }

    /// The rows of a query's output.
    var rows: [JSONValue] { output?["rows"]?.arrayValue ?? [] }
}
