#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMCapsule
import JALMWire
import Testing

@Suite(.serialized) struct DemoTests {
    @Test func theDemoCapsuleWritesReadsAndPassesValuesAlong() throws {
        let daemon = try Daemon()
        let body = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/demo.yml")))
        let (status, view) = try daemon.request("POST", "/exec?wait=30", body: body, contentType: "application/yaml")
        #expect(status == 200, "\(view)")
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["echo"] == ["greeting": "Hello, world!", "bytes": 13])
        let file = try String(contentsOfFile: daemon.dataDir + "/files/demo/hello.txt", encoding: .utf8)
        #expect(file == "Hello, world!")
    }

    @Test func theBlocksExampleRoutesLoopsAndFilesInParallel() throws {
        let daemon = try Daemon()
        let body = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/blocks.yml")))
        let (status, view) = try daemon.request("POST", "/exec?wait=30", body: body, contentType: "application/yaml")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["route"] == ["tier": "priority", "total": 136], "\(view)")
        #expect(view["outputs"]?["price"] == [["n": 0, "sku": "A", "amount": 24], ["n": 1, "sku": "B", "amount": 100],
                                             ["n": 2, "sku": "C", "amount": 12]], "\(view)")
        let ids = view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids.contains("price[1].big") && !ids.contains("standard"), "\(ids)")
        let audit = try String(contentsOfFile: daemon.dataDir + "/files/orders/7/audit.txt", encoding: .utf8)
        #expect(audit == "order 7: priority, 136")
    }

    @Test func theFallbackAndCompensateExamplesDoWhatTheySay() throws {
        let daemon = try Daemon()
        func run(_ name: String) throws -> JSONValue {
            let body = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/" + name)))
            return try daemon.request("POST", "/exec?wait=30", body: body, contentType: "application/yaml").1
        }
        let fallback = try run("fallback.yml")
        #expect(fallback["outputs"]?["use"] == ["theme": "light"], "\(fallback)")
        #expect(fallback["outputs"]?["note"] == ["note": "settings/app.json is missing"], "\(fallback)")
        let settings = fallback["steps"]?.arrayValue?.first { $0["id"] == "settings" }
        #expect(settings?["state"] == "ok" && settings?["fallback"] == "ok", "\(String(describing: settings))")

        let undone = try run("compensate.yml")
        #expect(undone["state"] == "failed" && undone["error"]?["code"] == "invalid_input", "\(undone)")
        #expect(undone["error"]?["message"] == "the draft has 3 words; 100 are needed", "\(undone)")
        let ids = undone["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["draft", "check", "draft:compensate"], "\(undone)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDir + "/files/drafts/note.txt"), "the draft was taken back")
    }

    /// examples/include.yml: a fragment spliced at the top, another inside a foreach (one write and one
    /// check per note), read from the daemon's capsules folder, where the examples' fragments are copied.
    @Test func theIncludeExampleSplicesItsFragmentsAtTheTopAndInsideAForeach() throws {
        let daemon = try Daemon()
        try daemon.installExampleFragments()
        let body = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/include.yml")))
        let (status, view) = try daemon.request("POST", "/exec?wait=30", body: body, contentType: "application/yaml")
        #expect(status == 200 && view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["banner"] == ["text": "2 notes to save"], "\(view)")
        #expect(view["outputs"]?["each"]?.arrayValue?.map { $0["size"] } == [10, 15], "\(view)")
        let ids = view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids.contains("each[1].save_note") && ids.contains("each[1].check_note"), "\(ids)")
        let note = try String(contentsOfFile: daemon.dataDir + "/files/notes/b.txt", encoding: .utf8)
        #expect(note == "the second note")
    }

    /// The examples that show a failure on purpose, with the state they end in.
    static let examplesThatFail = ["abort.yml": "failed", "compensate.yml": "failed"]

    @Test func everyExampleCapsuleIsValidAndCompletes() throws {
        let daemon = try Daemon()
        try daemon.installExampleFragments()
        let dir = Daemon.repoDir + "/examples"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        where (name.hasSuffix(".yml") || name.hasSuffix(".json")) && !RealisticExampleTests.examples.contains(name) {
            let body = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            let type = name.hasSuffix(".json") ? "application/json" : "application/yaml"
            let (status, view) = try daemon.request("POST", "/exec?wait=30", body: body, contentType: type)
            let expected = Self.examplesThatFail[name] ?? "completed"
            #expect(status == 200 && view["state"] == .string(expected), "\(name): \(view)")
        }
    }

    @Test func rootAndHealthDescribeTheDaemon() throws {
        let daemon = try Daemon()
        let (s1, root) = try daemon.request("GET", "/")
        #expect(s1 == 200 && root["name"] == "jalmd" && root["version"] == .string(jalmVersion))
        let (s2, health) = try daemon.request("GET", "/health")
        #expect(s2 == 200 && health["status"] == "ok")
        #expect(health["layers"]?.objectValue?.count == 6)
        let (s3, layers) = try daemon.request("GET", "/layers")
        #expect(s3 == 200 && layers["layers"]?.arrayValue?.count == 6)
    }

    @Test func theCatalogIsServed() throws {
        let daemon = try Daemon()
        let (status, catalog) = try daemon.request("GET", "/catalog")
        #expect(status == 200)
        let ops = catalog["ops"]?.arrayValue ?? []
        #expect(ops.contains { $0["layer"] == "io-file" && $0["op"] == "write" && $0["side_effect"] == "write" })
        #expect(catalog["layers"]?.arrayValue?.count == 6)
    }
}

extension Daemon {
    /// Copies examples/fragments to `<data>/capsules/fragments`, where examples/include.yml finds them.
    func installExampleFragments() throws {
        let target = dataDir + "/capsules/fragments"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.createDirectory(atPath: dataDir + "/capsules", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Daemon.repoDir + "/examples/fragments", toPath: target)
    }
}

@Suite(.serialized) struct CLITests {
    @Test func theCLIRunsTheDemoAndExitsZero() throws {
        let daemon = try Daemon()
        let log = daemon.dataDir + "-cli.log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalm",
                                   ["--socket", daemon.socketPath, "run", Daemon.repoDir + "/examples/demo.yml", "--wait"],
                                   log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let out = try String(contentsOfFile: log, encoding: .utf8)
        #expect((status >> 8) & 0xFF == 0, "\(out)")
        #expect(out.contains("completed") && out.contains("Hello, world!"), "\(out)")
    }

    @Test func theCLISaysWhereItLookedWhenTheDaemonIsNotThere() throws {
        let log = Daemon.makeTempDir() + "/cli.log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalm", ["--socket", "/nonexistent/jalmd.sock", "ls"], log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let out = try String(contentsOfFile: log, encoding: .utf8)
        #expect((status >> 8) & 0xFF == 3, "\(out)")
        #expect(out.contains("cannot reach jalmd at /nonexistent/jalmd.sock"), "\(out)")
    }

    @Test func theControlSocketIsGroupWritableOnly() throws {
        let daemon = try Daemon()
        var st = stat()
        #expect(stat(daemon.socketPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
    }
}
