#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire
import Testing

/// `POST /exec?dry_run=1` and `jalm run --dry-run`: every write or external step is previewed by its layer,
/// nothing is changed or sent; reads and pure steps run for real. The flag is journaled with the
/// submission, so a restart resumes a dry run as a dry run.
@Suite(.serialized) struct DryRunTests {
    static func capsule(_ url: String) -> JSONValue {
        ["intent": "dry", "steps": [
            ["id": "table", "layer": "io-db", "op": "exec", "input": ["sql": "CREATE TABLE dry_items (id INTEGER)"]],
            ["id": "tables", "layer": "io-db", "op": "query",
             "input": ["sql": "SELECT count(*) AS n FROM sqlite_master WHERE name = 'dry_items'"]],
            ["id": "write", "layer": "io-file", "op": "write", "input": ["path": "dry/out.txt", "content": "hello", "create_dirs": true]],
            ["id": "post", "layer": "io-http", "input": ["method": "POST", "url": .string(url + "/echo"), "text": "x=1"]],
            ["id": "hook", "layer": "notify-mq", "op": "webhook", "input": ["url": .string(url + "/hook"), "payload": ["a": 1], "signing_key": "main"]],
            ["id": "echo", "layer": "compute-script", "op": "sys.echo", "input": ["seen": "{{ steps.tables.output.rows[0].n }}"]],
        ]]
    }

    @Test func writesAndExternalCallsArePreviewedAndNothingChanges() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let (status, view) = try daemon.request("POST", "/exec?wait=30&dry_run=1", json: Self.capsule(server.httpURL))
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        #expect(view["dry_run"] == true, "\(view)")
        let outputs = view["outputs"]
        #expect(outputs?["table"]?["dry_run"] == true, "\(view)")
        #expect(outputs?["tables"]?["rows"]?[0]?["n"] == 0, "the dry CREATE TABLE was rolled back: \(view)")
        #expect(outputs?["write"]?["dry_run"] == true && outputs?["write"]?["size"] == 5, "\(view)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDir + "/files/dry/out.txt"))
        #expect(outputs?["post"]?["sent"] == false, "\(view)")
        #expect(outputs?["post"]?["request"]?["method"] == "POST" && outputs?["post"]?["request"]?["body_bytes"] == 3, "\(view)")
        #expect(outputs?["hook"]?["sent"] == false && outputs?["hook"]?["message"]?["payload"] == ["a": 1], "\(view)")
        #expect(outputs?["echo"] == ["seen": 0], "a pure step ran for real")
        #expect(server.connections().isEmpty, "a dry run sent \(server.connections())")
        // The same capsule for real changes the world.
        let real = try daemon.run(["steps": [Self.capsule(server.httpURL)["steps"]![2]!]])
        #expect(real["state"] == "completed" && real["dry_run"] == nil, "\(real)")
        #expect(FileManager.default.fileExists(atPath: daemon.dataDir + "/files/dry/out.txt"))
    }

    @Test func aDryRunMessageToAServerThatIsNotConfiguredFailsAsTheRealCallWould() throws {
        let daemon = try Daemon()
        let (status, view) = try daemon.request("POST", "/exec?wait=30&dry_run=1", json: ["steps": [
            ["id": "mail", "layer": "notify-mq", "op": "email",
             "input": ["server": "nowhere", "to": "ops@example.test", "subject": "x", "text": "x"]],
        ]])
        #expect(status == 200 && view["state"] == "failed", "\(view)")
        #expect(view["error"]?["code"] == "not_found", "\(view)")
        #expect(view["error"]?["message"]?.stringValue?.contains("no smtp server named \"nowhere\"") == true, "\(view)")
    }

    @Test func aDryRunResumesAsADryRunAfterKill9() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec?dry_run=true", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 3000]],
            ["id": "write", "layer": "io-file", "op": "write", "input": ["path": "after-crash.txt", "content": "x"]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(500_000)
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["dry_run"] == true && view["outputs"]?["write"]?["dry_run"] == true, "\(view)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDir + "/files/after-crash.txt"))
    }

    @Test func aDryRunTakesNoKeyAndABadValueIsRefused() throws {
        let daemon = try Daemon()
        let capsule: JSONValue = ["steps": [["id": "a", "layer": "io-file", "op": "sys.echo"]]]
        let client = UnixHTTPClient(endpoint: .unix(path: daemon.socketPath), timeout: 30)
        let r = try client.send(method: "POST", path: "/exec?dry_run=1", body: JSONWriter.bytes(capsule),
                                contentType: "application/json", headers: [("Idempotency-Key", "k1")])
        let problem = try JSONParser.parse(r.body)
        #expect(r.status == 422 && problem["pointer"] == "/dry_run", "\(problem)")
        let (bad, badProblem) = try daemon.request("POST", "/exec?dry_run=maybe", json: capsule)
        #expect(bad == 400 && badProblem["pointer"] == "/dry_run", "\(badProblem)")
    }

    @Test func theCLIRunsADryRun() throws {
        let daemon = try Daemon()
        let dir = Daemon.makeTempDir()
        try #"{"steps": [{"id": "w", "layer": "io-file", "op": "write", "input": {"path": "cli.txt", "content": "x"}}]}"#
            .write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let log = dir + "/cli.log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalm", ["--socket", daemon.socketPath, "--json", "run", dir + "/c.json",
                                                            "--dry-run", "--wait"], log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let out = try String(contentsOfFile: log, encoding: .utf8)
        #expect((status >> 8) & 0xFF == 0, "\(out)")
        #expect(out.contains("\"dry_run\": true"), "\(out)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDir + "/files/cli.txt"))
    }
}
