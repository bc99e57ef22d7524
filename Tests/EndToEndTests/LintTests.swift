#if canImport(Glibc)
import Glibc
#endif
import Foundation
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

    @Test func everyExampleIsGoodOffline() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Daemon.repoDir + "/examples").sorted()
            .map { Daemon.repoDir + "/examples/" + $0 }
        let (status, out) = try jalm(["lint", "--share", Daemon.repoDir] + files)
        #expect(status == 0, "\(out)")
        #expect(out.contains("examples/demo.yml: ok (3 steps)") && out.contains("examples/sleep-chain.json: ok (3 steps)"), "\(out)")
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
