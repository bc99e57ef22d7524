#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// Blocks across kill -9 of the real daemon: a foreach whose iterations hold a write, a nap and a switch
/// resumes where it stood; no write that ended ok runs again, and the iterations not started yet run.
@Suite(.serialized) struct BlockDurabilityTests {
    @Test func aForeachWithASwitchInsideResumesAfterKill9AndWritesEachFileOnce() throws {
        let daemon = try Daemon()
        let (s, r) = try daemon.request("POST", "/exec", json: ["vars": ["names": ["a", "b", "c", "d"]], "steps": [
            ["id": "each", "foreach": "{{ vars.names }}", "as": "name", "concurrency": 2, "steps": [
                ["id": "w", "layer": "io-file", "op": "write",
                 "input": ["path": "loop/{{ name }}.txt", "content": "n{{ index }}", "create_dirs": true]],
                ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 3000]],
                ["id": "route", "switch": [
                    ["when": "$.index % 2 == 0", "steps": [["id": "even", "layer": "compute-script", "op": "sys.echo",
                                                            "input": ["n": "{{ name }}"]]]],
                    ["default": [["id": "odd", "layer": "compute-script", "op": "sys.echo", "input": ["n": "{{ name }}"]]]],
                ]],
            ]],
            ["id": "both", "parallel": [
                "x": [["id": "px", "layer": "compute-script", "op": "sys.echo", "input": ["all": "{{ steps.each.output }}"]]],
                "y": [["id": "py", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 10]]],
            ]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        // Both first writes are done and both naps run: no write is in flight for the next 3 s.
        #expect(try daemon.waitUntil(10) {
            let steps = try daemon.request("GET", "/exec/\(id)").1["steps"]?.arrayValue ?? []
            let ok = Set(steps.filter { $0["state"] == "ok" }.compactMap { $0["id"]?.stringValue })
            return ok.isSuperset(of: ["each[0].w", "each[1].w"])
        })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(20) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["outputs"]?["each"] == [["n": "a"], ["n": "b"], ["n": "c"], ["n": "d"]], "\(view["state"] ?? nil) \(view["error"] ?? nil) \(view["steps"] ?? nil)")
        #expect(view["outputs"]?["both"]?["x"]?["all"]?.arrayValue?.count == 4, "\(view)")
        let ids = view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids.contains("each[2].even") && ids.contains("each[3].odd") && !ids.contains("each[0].odd"), "\(ids)")
        _ = daemon.terminate()
        let runs = try JournalFile(daemon.dataDir).runs(id)
        for k in 0..<4 {
            #expect(runs.filter { $0.step == "each[\(k)].w" }.count == 1, "each[\(k)].w ran more than once: \(runs)")
            let file = try String(contentsOfFile: daemon.dataDir + "/files/loop/\(["a", "b", "c", "d"][k]).txt", encoding: .utf8)
            #expect(file == "n\(k)")
        }
        // The naps in flight at the kill (repeatable, so their dispatch was not journaled) ran again, to one ok.
        #expect(runs.filter { $0.step == "each[0].nap" && $0.state == "ok" }.count == 1, "\(runs)")
    }
}
