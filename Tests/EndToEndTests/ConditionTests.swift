#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// `when:` through the real daemon: skipped steps in the journal and the view, references to a skipped
/// step's output, malformed conditions refused with their place.
@Suite(.serialized) struct ConditionTests {
    func echo(_ id: String, when: String? = nil, input: JSONValue = ["x": 1]) -> JSONValue {
        var step: [String: JSONValue] = ["id": .string(id), "layer": "compute-script", "op": "sys.echo", "input": input]
        if let when { step["when"] = .string(when) }
        return .object(step)
    }

    /// Submits `examples/NAME` as written to a fresh daemon and waits for its end.
    static func runExample(_ name: String) throws -> (Int, JSONValue) {
        let daemon = try Daemon()
        let body = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/" + name)))
        let type = name.hasSuffix(".json") ? "application/json" : "application/yaml"
        return try daemon.request("POST", "/exec?wait=30", body: body, contentType: type)
    }

    @Test func theSleepChainExamplePassesANumberAcrossThreeLayers() throws {
        let (status, view) = try Self.runExample("sleep-chain.json")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["c"] == ["after": 100], "\(view)")
    }

    @Test func theConditionsExampleRoutesAndSkips() throws {
        let (status, view) = try Self.runExample("conditions.yml")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        let states = view["steps"]?.arrayValue?.map { $0["state"] ?? nil } ?? []
        #expect(states == ["ok", "ok", "skipped", "ok"], "\(view)")
        #expect(view["outputs"]?["total"] == ["value": 150.0])
        #expect(view["outputs"]?["notify"] == ["message": "order 42 goes priority"])
        #expect(view["outputs"]?["standard"] == nil)
        #expect(view["steps"]?[2]?["runs"]?[0]?["state"] == "skipped")
    }

    /// examples/on-error.yml: the optional file is missing, the read fails for good (not_found is not
    /// retried), the capsule goes on and takes the defaults.
    @Test func theOnErrorExampleContinuesPastAMissingFile() throws {
        let (status, view) = try Self.runExample("on-error.yml")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        let states = view["steps"]?.arrayValue?.map { $0["state"] ?? nil } ?? []
        #expect(states == ["error", "ok", "ok"], "\(view)")
        #expect(view["steps"]?[0]?["error"]?["code"] == "not_found", "\(view)")
        #expect(view["steps"]?[0]?["attempts"] == 1, "\(view)")
        #expect(view["outputs"]?["defaults"] == ["theme": "light", "source": "defaults"], "\(view)")
        #expect(view["outputs"]?["settings"] == nil)
        #expect(view["error"] == .null, "\(view)")
    }

    /// examples/expected-outputs.yml: a report written and checked on disk, every expectation met.
    @Test func theExpectedOutputsExampleChecksTheReportOnDisk() throws {
        let (status, view) = try Self.runExample("expected-outputs.yml")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["check"]?["size"] == 28, "\(view)")
    }

    /// A broken expectation through the real daemon: the step fails with assertion_failed at the entry,
    /// the value that broke it in the details; a malformed entry is a 422 before anything runs.
    @Test func aBrokenExpectationFailsItsStepWithThePlaceAndTheValue() throws {
        let daemon = try Daemon()
        var step = echo("a", input: ["status": "pending"]).objectValue!
        step["expected_outputs"] = [["path": "/status", "schema": ["enum": ["paid", "shipped"]], "message": "order not paid"]]
        let view = try daemon.run(["steps": [.object(step), echo("b")]])
        #expect(view["state"] == "failed", "\(view)")
        #expect(view["error"]?["code"] == "assertion_failed", "\(view)")
        #expect(view["error"]?["pointer"] == "/steps/0/expected_outputs/0", "\(view)")
        #expect(view["error"]?["message"] == "step a (compute-script.sys.echo) failed: order not paid: output /status must be one of \"paid\", \"shipped\"",
                "\(view)")
        #expect(view["error"]?["details"] == ["path": "/status", "value": "pending"], "\(view)")
        #expect(view["steps"]?.arrayValue?.map { $0["state"] ?? nil } == ["error", "pending"], "\(view)")
        step["expected_outputs"] = [["path": "status", "type": "string"]]
        let (status, problem) = try daemon.request("POST", "/exec", json: ["steps": [.object(step)]])
        #expect(status == 422 && problem["pointer"] == "/steps/0/expected_outputs/0/path", "\(problem)")
    }

    @Test func aReferenceToASkippedStepsOutputFailsClearly() throws {
        let daemon = try Daemon()
        let view = try daemon.run(["steps": [
            echo("a", when: "$.vars.go == true"),
            echo("b", input: ["from": "{{ steps.a.output.x }}"]),
        ], "vars": ["go": false]])
        #expect(view["state"] == "failed")
        #expect(view["error"]?["code"] == "invalid_input")
        #expect(view["error"]?["pointer"] == "/steps/1/input/from", "\(view)")
        #expect(view["error"]?["message"]?.stringValue?.contains("step \"a\" was skipped") == true, "\(view)")
        #expect(view["steps"]?[0]?["state"] == "skipped" && view["steps"]?[1]?["state"] == "error")
    }

    @Test func aConditionThatFailsAtRunTimeFailsItsStep() throws {
        let daemon = try Daemon()
        let view = try daemon.run(["steps": [echo("a", input: ["n": "five"]), echo("b", when: "$.steps.a.output.n > 3")]])
        #expect(view["state"] == "failed")
        #expect(view["error"]?["pointer"] == "/steps/1/when", "\(view)")
        #expect(view["error"]?["message"]?.stringValue?.contains("> compares two numbers or two strings") == true)
        let notBoolean = try daemon.run(["steps": [echo("a", when: "$.vars.n")], "vars": ["n": 1]])
        #expect(notBoolean["error"]?["message"]?.stringValue?.contains("when must give a boolean, got integer") == true)
    }

    @Test func malformedConditionsAre422WithPointerAndPosition() throws {
        let daemon = try Daemon()
        let cases: [(JSONValue, String, String)] = [
            (["steps": [echo("a"), echo("b", when: "$.steps.a.output.x >")]], "/steps/1/when",
             "when: the expression ends where a value was expected at line 1, column 21 (offset 20)"),
            (["steps": [echo("a", when: "$.steps.later.state == 'ok'"), echo("later")]], "/steps/0/when",
             "when reads $.steps.later, which is not a step that runs before a"),
            (["steps": [echo("a", when: "$.vars.nope")]], "/steps/0/when", "there is no var \"nope\""),
            (["steps": [echo("a", when: "$.payload.x == 1")]], "/steps/0/when", "a condition sees $.vars, $.steps and $.execution"),
            (["steps": [["id": "a", "layer": "compute-script", "op": "sys.echo", "when": true]]], "/steps/0/when",
             "when must be an expression in a string, got boolean"),
        ]
        for (capsule, pointer, message) in cases {
            let (status, problem) = try daemon.request("POST", "/exec", json: capsule)
            #expect(status == 422, "\(problem)")
            #expect(problem["pointer"] == .string(pointer), "\(problem)")
            #expect(problem["detail"]?.stringValue?.contains(message) == true, "\(problem)")
        }
    }
}

/// compute-script's wasm op reading a module from <data>/wasm under the enforced sandbox (Landlock
/// read access to that folder, openat2 in the seccomp policy).
@Suite(.serialized) struct WasmFileTests {
    @Test func aModuleBeneathDataWasmRunsConfined() throws {
        let card = try String(contentsOfFile: Daemon.repoDir + "/kernel/step_cards/compute-script.wasm.yml", encoding: .utf8)
        guard let line = card.split(separator: "\n").first(where: { $0.contains("module_base64: AGFzbQ") }),
              let encoded = line.split(separator: " ").last, let bytes = Data(base64Encoded: String(encoded))
        else { Issue.record("no module in the card"); return }
        let data = Daemon.makeTempDir()
        try FileManager.default.createDirectory(atPath: data + "/wasm", withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: data + "/wasm/wrap.wasm"))
        try "secret".write(toFile: data + "/outside.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: data + "/wasm/out.wasm", withDestinationPath: data + "/outside.txt")
        let daemon = try Daemon(dataDir: data)
        let view = try daemon.run(["steps": [["id": "w", "layer": "compute-script", "op": "wasm",
                                              "input": ["path": "wrap.wasm", "input": ["n": 1]]]]])
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["w"]?["output"] == ["got": ["n": 1]])
        let out = try daemon.run(["steps": [["id": "w", "layer": "compute-script", "op": "wasm",
                                             "input": ["path": "out.wasm"]]]])
        #expect(out["state"] == "failed" && out["error"]?["code"] == "invalid_input", "\(out)")
    }
}
