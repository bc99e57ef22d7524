#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMDocument
import JALMWire
import Testing

/// `jalm lint` (offline against the repository's catalog, and through jalmd) and `POST /lint`: the checks
/// of `POST /exec`, nothing run, faults as file:line:column: pointer: message.
@Suite(.serialized) struct LintTests {
    /// Runs `jalm ARGS`; returns its exit status and what it printed (stdout and stderr).
    func jalm(_ args: [String]) throws -> (Int32, String) {
        let log = Daemon.makeTempDir() + "/lint.log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalm", args, log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xFF, try String(contentsOfFile: log, encoding: .utf8))
    }

    func write(_ text: String, name: String) throws -> String {
        let path = Daemon.makeTempDir() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The example capsules: the files of examples/ (its fragments/ folder holds what they include).
    static func exampleFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Daemon.repoDir + "/examples").sorted()
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            .map { Daemon.repoDir + "/examples/" + $0 }
    }

    @Test func everyExampleIsGoodOffline() throws {
        let files = try Self.exampleFiles()
        let (status, out) = try jalm(["lint", "--share", Daemon.repoDir, "--capsules-dir", Daemon.repoDir + "/examples"] + files)
        #expect(status == 0, "\(out)")
        #expect(out.contains("examples/demo.yml: ok (3 steps)") && out.contains("examples/sleep-chain.json: ok (3 steps)"), "\(out)")
        // include.yml: its banner, the foreach, and the two steps of the fragment spliced into it.
        #expect(out.contains("examples/include.yml: ok (4 steps)"), "\(out)")
    }

    /// Offline, includes are read from --capsules-dir; a fault inside a fragment is printed at the include
    /// step that brought it, with the fragment's place in the message.
    @Test func includesAreReadFromTheCapsulesDirAndAFragmentsFaultIsPrintedAtItsIncludeStep() throws {
        let dir = Daemon.makeTempDir()
        try FileManager.default.createDirectory(atPath: dir + "/fragments", withIntermediateDirectories: true)
        try "steps:\n  - {id: ok, layer: io-file, op: sys.echo}\n  - {id: bad, layer: io-file, op: reed}\n"
            .write(toFile: dir + "/fragments/bad.yml", atomically: true, encoding: .utf8)
        let capsule = try write("include: {bad: fragments/bad.yml}\nsteps:\n  - {id: a, layer: io-file, op: sys.echo}\n  - include: bad\n",
                                name: "uses-bad.yml")
        let (status, out) = try jalm(["lint", "--share", Daemon.repoDir, "--capsules-dir", dir, capsule])
        #expect(status == 1, "\(out)")
        #expect(out.contains(capsule + #":4:5: /steps/1: fragments/bad.yml#/steps/1/op: layer "io-file" has no op "reed""#), "\(out)")
        #expect(out.contains("(included at /steps/1 (bad: fragments/bad.yml#/steps))"), "\(out)")
        let (missing, text) = try jalm(["lint", "--share", Daemon.repoDir, "--capsules-dir", dir + "/none", capsule])
        #expect(missing == 1 && text.contains(capsule + ":1:16: /include/bad: include fragments/bad.yml: no capsules folder"), "\(text)")
    }

    @Test func aFaultIsPrintedWithItsLineColumnAndPointerAndExitsOne() throws {
        let yaml = try write("""
            intent: faulty
            steps:
              - id: read
                layer: io-file
                op: read
                input: {path: notes.txt}
              - id: check
                layer: io-file
                op: stat
                input: {path: notes.txt}
                expected_outputs:
                  - {path: size, type: integer}
            """, name: "faulty.yml")
        let json = try write(#"{"steps": [{"id": "a", "layer": "io-file", "op": "reed"}]}"#, name: "typo.json")
        let good = Daemon.repoDir + "/examples/on-error.yml"
        let (status, out) = try jalm(["lint", "--share", Daemon.repoDir, yaml, json, good])
        #expect(status == 1, "\(out)")
        #expect(out.contains(yaml + ":12:16: /steps/1/expected_outputs/0/path: path must be a JSON Pointer"), "\(out)")
        #expect(out.contains(json + #":1:50: /steps/0/op: layer "io-file" has no op "reed""#), "\(out)")
        #expect(out.contains(good + ": ok (3 steps)"), "\(out)")
    }

    @Test func aFileThatCannotBeReadIsAUsageError() throws {
        let (status, out) = try jalm(["lint", "--share", Daemon.repoDir, "/nonexistent/capsule.yml"])
        #expect(status == 2 && out.contains("cannot read /nonexistent/capsule.yml"), "\(out)")
        let (noShare, text) = try jalm(["lint", "--share", "/nonexistent", Daemon.repoDir + "/examples/demo.yml"])
        #expect(noShare == 2 && text.contains("cannot load the op catalog from /nonexistent/kernel"), "\(text)")
    }

    /// The published schema, checked by an outside validator (python jsonschema, draft 2020-12): it is
    /// itself a valid schema, every example (and the reference README's wrapped capsule) passes, and a
    /// capsule with a key the parser refuses fails. jalmd serves the same document as the shipped file.
    @Test func thePublishedSchemaAcceptsEveryExampleAndRefusesWhatTheParserRefuses() throws {
        let schemaPath = Daemon.repoDir + "/schema/capsule.schema.json"
        let dir = Daemon.makeTempDir()
        var good: [String] = []
        // The fragments are capsule-shaped too (a list of steps under steps), so the schema checks them.
        let fragments = try FileManager.default.contentsOfDirectory(atPath: Daemon.repoDir + "/examples/fragments").sorted()
            .map { Daemon.repoDir + "/examples/fragments/" + $0 }
        for file in try Self.exampleFiles() + fragments {
            let name = (file as NSString).lastPathComponent
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            let path = dir + "/" + name + ".json"
            try Data(JSONWriter.bytes(try Document.parse(bytes, contentType: nil))).write(to: URL(fileURLWithPath: path))
            good.append(path)
        }
        let wrapped = dir + "/wrapped.json"
        try #"{"jalm_config": {"intent": "t", "steps": [{"id": "r", "layer": "io-http", "input": {"url": "http://x"}}]}}"#
            .write(toFile: wrapped, atomically: true, encoding: .utf8)
        good.append(wrapped)
        let bad: [(String, String)] = [
            ("unknown-step-key", #"{"steps": [{"id": "a", "layer": "io-file", "op": "read", "inputs": {}}]}"#),
            ("bad-on-error", #"{"steps": [{"id": "a", "layer": "io-file", "op": "read", "on_error": "ignore"}]}"#),
            ("no-steps", #"{"intent": "x"}"#),
            ("bad-id", #"{"steps": [{"id": "1a", "layer": "io-file"}]}"#),
            ("bad-expectation", #"{"steps": [{"id": "a", "layer": "io-file", "expected_outputs": [{"path": "/x"}]}]}"#),
            ("bad-retry-code", #"{"steps": [{"id": "a", "layer": "io-file", "retry": {"retry_on": ["oops"]}}]}"#),
            ("abort-with-layer", #"{"steps": [{"id": "a", "layer": "io-file", "abort": {"message": "x"}}]}"#),
            ("abort-without-message", #"{"steps": [{"id": "a", "abort": {"code": "conflict"}}]}"#),
            ("set-with-layer", #"{"steps": [{"id": "a", "layer": "io-file", "set": {"x": 1}}]}"#),
            ("set-bad-name", #"{"steps": [{"id": "a", "set": {"1x": 1}}]}"#),
            ("include-step-with-id", #"{"include": {"f": "f.yml"}, "steps": [{"id": "a", "include": "f"}]}"#),
            ("include-absolute", #"{"include": {"f": "/etc/f.yml"}, "steps": [{"include": "f"}]}"#),
            ("include-not-text", #"{"include": {"f": 1}, "steps": [{"include": "f"}]}"#),
        ]
        var badPaths: [String] = []
        for (name, text) in bad {
            try text.write(toFile: dir + "/" + name + ".json", atomically: true, encoding: .utf8)
            badPaths.append(dir + "/" + name + ".json")
        }
        let script = """
            import json, sys
            try:
                import jsonschema
            except ImportError:
                print("MISSING jsonschema"); sys.exit(3)
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            v = jsonschema.Draft202012Validator(schema)
            n = int(sys.argv[2])
            for i, path in enumerate(sys.argv[3:]):
                errors = list(v.iter_errors(json.load(open(path))))
                print(("good" if i < n else "bad"), path, "valid" if not errors else "invalid")
            """
        let log = dir + "/jsonschema.log"
        let pid = try Daemon.spawn("/usr/bin/env", ["python3", "-c", script, schemaPath, String(good.count)] + good + badPaths,
                                   log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let out = try String(contentsOfFile: log, encoding: .utf8)
        if out.contains("MISSING jsonschema") {
            return MissingTool.report("python jsonschema", installedBy: "scripts/deps.d/capsule.pip")
        }
        #expect((status >> 8) & 0xFF == 0, "\(out)")
        for path in good { #expect(out.contains("good \(path) valid"), "\(out)") }
        for path in badPaths { #expect(out.contains("bad \(path) invalid"), "\(out)") }
        let daemon = try Daemon()
        let (code, served) = try daemon.request("GET", "/schema/capsule.json")
        let shipped = try JSONParser.parse(String(contentsOfFile: schemaPath, encoding: .utf8))
        #expect(code == 200 && served == shipped)
    }

    /// Through jalmd: the daemon also knows its secrets; nothing is run or journaled.
    @Test func postLintAndTheDaemonModeCheckWithoutRunning() throws {
        let daemon = try Daemon()
        let capsule: JSONValue = ["intent": "lint me", "steps": [
            ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "lint.txt", "content": "x"]],
        ]]
        let (status, summary) = try daemon.request("POST", "/lint", json: capsule)
        #expect(status == 200, "\(summary)")
        #expect(summary == ["ok": true, "intent": "lint me", "steps": [
            ["id": "w", "layer": "io-file", "op": "write", "side_effect": "write"]]], "\(summary)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDir + "/files/lint.txt"), "lint ran the write")
        #expect(try daemon.request("GET", "/exec").1["items"]?.arrayValue?.isEmpty == true)
        let (missing, problem) = try daemon.request("POST", "/lint", json: ["secrets": ["nope"], "steps": [
            ["id": "a", "layer": "io-file", "op": "sys.echo"],
        ]])
        #expect(missing == 422 && problem["pointer"] == "/secrets/0", "\(problem)")
        let file = try write("steps:\n  - {id: a, layer: io-file, op: sys.echo}\nsecrets: [nope]\n", name: "secret.yml")
        let (code, out) = try jalm(["--socket", daemon.socketPath, "lint", "--daemon", file])
        #expect(code == 1 && out.contains(file + ":3:11: /secrets/0:"), "\(out)")
    }
}
