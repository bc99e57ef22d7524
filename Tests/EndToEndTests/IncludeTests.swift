#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire
import Testing

/// `include:` through the real daemon: fragments under `<data>/capsules/`, expanded at submission and
/// journaled expanded, so that a restart runs what was submitted whatever the fragment files hold by then.
@Suite(.serialized) struct IncludeTests {
    /// A fragment that naps (so that a kill can land in it), then says which version of the file it was.
    static func fragment(_ version: String) -> String {
        """
        steps:
          - {id: nap, layer: io-file, op: sys.sleep, input: {ms: 3000}}
          - {id: mark, layer: compute-script, op: sys.echo, input: {version: \(version)}}
        """
    }

    static let capsule = Array("""
        intent: included work
        include: {work: "fragments/work.yml#steps"}
        steps:
          - include: work
          - {id: after, layer: compute-script, op: sys.echo, input: {v: "{{ steps.mark.output.version }}"}}
        """.utf8)

    static func write(_ daemon: Daemon, _ path: String, _ text: String) throws {
        let full = daemon.dataDir + "/capsules/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    static func post(_ daemon: Daemon, _ body: [UInt8], query: String = "", key: String? = nil) throws -> HTTPResponse {
        let client = UnixHTTPClient(endpoint: .unix(path: daemon.socketPath), timeout: 40)
        return try client.send(method: "POST", path: "/exec" + query, body: body, contentType: "application/yaml",
                               headers: key.map { [("Idempotency-Key", $0)] } ?? [])
    }

    static func json(_ r: HTTPResponse) -> JSONValue { (try? JSONParser.parse(r.body)) ?? .null }

    @Test func theIncludedStepsRunAndAfterKill9TheJournaledExpansionRunsNotTheChangedFile() throws {
        let daemon = try Daemon()
        try Self.write(daemon, "fragments/work.yml", Self.fragment("v1"))
        let submitted = try Self.post(daemon, Self.capsule)
        #expect(submitted.status == 202, "\(Self.json(submitted))")
        let id = try #require(Self.json(submitted)["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) {
            try daemon.request("GET", "/exec/\(id)").1["steps"]?.arrayValue?.contains {
                $0["id"] == "nap" && $0["state"] == "dispatched"
            } == true
        })
        daemon.kill9()
        // The file changes while jalmd is down: the restart must not read it.
        try Self.write(daemon, "fragments/work.yml", Self.fragment("v2"))
        try daemon.start()
        #expect(try daemon.waitUntil(20) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["outputs"]?["after"] == ["v": "v1"], "\(view)")
        #expect(view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["nap", "mark", "after"], "\(view)")

        // A new submission of the same capsule reads the file as it is now (no plan kept from v1).
        let again = try Self.post(daemon, Self.capsule, query: "?wait=30")
        #expect(again.status == 200 && Self.json(again)["outputs"]?["after"] == ["v": "v2"], "\(Self.json(again))")
    }

    @Test func aKeyIsReplayedWhileTheFragmentIsUnchangedAndConflictsOnceItChanged() throws {
        let daemon = try Daemon()
        try Self.write(daemon, "fragments/work.yml", "steps: [{id: mark, layer: compute-script, op: sys.echo, input: {version: v1}}]")
        let first = try Self.post(daemon, Self.capsule, query: "?wait=30", key: "inc-1")
        #expect(first.status == 200 && Self.json(first)["state"] == "completed", "\(Self.json(first))")
        let id = Self.json(first)["execution_id"]
        let replay = try Self.post(daemon, Self.capsule, key: "inc-1")
        #expect(replay.status == 200 && replay.header("Idempotent-Replayed") == "true", "\(Self.json(replay))")
        #expect(Self.json(replay)["execution_id"] == id)
        try Self.write(daemon, "fragments/work.yml", "steps: [{id: mark, layer: compute-script, op: sys.echo, input: {version: v2}}]")
        let changed = try Self.post(daemon, Self.capsule, key: "inc-1")
        #expect(changed.status == 409 && Self.json(changed)["details"]?["execution_id"] == id, "\(Self.json(changed))")
    }

    @Test func include_max_depthInJalmdYmlBoundsTheNesting() throws {
        let daemon = try Daemon(config: "include_max_depth: 1")
        try Self.write(daemon, "fragments/inner.yml", "steps: [{id: deep, layer: compute-script, op: sys.echo, input: {}}]\n")
        try Self.write(daemon, "fragments/outer.yml", "include: {i: fragments/inner.yml}\nsteps: [{include: i}]\n")
        try Self.write(daemon, "fragments/flat.yml", "steps: [{id: flat, layer: compute-script, op: sys.echo, input: {}}]\n")
        let flat = try Self.post(daemon, Array("include: {f: fragments/flat.yml}\nsteps: [{include: f}]".utf8), query: "?wait=20")
        #expect(flat.status == 200 && Self.json(flat)["state"] == "completed", "depth 1 runs: \(Self.json(flat))")
        let deep = try Self.post(daemon, Array("include: {o: fragments/outer.yml}\nsteps: [{include: o}]".utf8))
        #expect(deep.status == 422, "\(Self.json(deep))")
        #expect(Self.json(deep)["detail"]?.stringValue?.contains("includes nest at most 1 deep") == true, "\(Self.json(deep))")
    }

    @Test func aBadIncludeIsA422AtItsPointerAndLintSeesTheFragments() throws {
        let daemon = try Daemon()
        try Self.write(daemon, "fragments/a.yml", "include: {b: fragments/b.yml}\nsteps: [{include: b}]\n")
        try Self.write(daemon, "fragments/b.yml", "include: {a: fragments/a.yml}\nsteps: [{include: a}]\n")
        let cycle = try Self.post(daemon, Array("include: {a: fragments/a.yml}\nsteps: [{include: a}]".utf8))
        #expect(cycle.status == 422 && Self.json(cycle)["pointer"] == "/steps/0", "\(Self.json(cycle))")
        #expect(Self.json(cycle)["detail"]?.stringValue?.contains(
            "include cycle: fragments/a.yml#/steps → fragments/b.yml#/steps → fragments/a.yml#/steps") == true,
                "\(Self.json(cycle))")
        let missing = try Self.post(daemon, Array("include: {x: fragments/none.yml}\nsteps: [{include: x}]".utf8))
        #expect(missing.status == 422 && Self.json(missing)["pointer"] == "/include/x", "\(Self.json(missing))")

        try Self.write(daemon, "fragments/work.yml", Self.fragment("v1"))
        let (status, summary) = try daemon.request("POST", "/lint", body: Self.capsule, contentType: "application/yaml")
        #expect(status == 200, "\(summary)")
        #expect(summary["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["nap", "mark", "after"], "\(summary)")
        #expect(try daemon.request("GET", "/exec").1["items"]?.arrayValue?.isEmpty == true)
    }
}
