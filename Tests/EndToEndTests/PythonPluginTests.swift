import Foundation
import JALMWire
import Testing

/// The protocol is enough to write a plugin in another language: plugins/examples/python-echo (stdlib
/// Python) serves render-html through the real kernel, confined by its own policy.
@Suite(.serialized) struct PythonPluginTests {
    static let plugin = ["render-html": Daemon.repoDir + "/plugins/examples/python-echo"]

    @Test func thePythonPluginGreetsEchoesSleepsAndHonoursCancel() throws {
        let daemon = try Daemon(pluginDirectories: Self.plugin, systemOpsOnly: ["render-html"])
        let layer = try daemon.layer("render-html")
        #expect(layer["version"] == "0.1.0-python")
        #expect(layer["processes"]?[0]?["confinement"]?["seccomp"] == 2, "\(layer)")
        let view = try daemon.run(["steps": [
            ["id": "e", "layer": "render-html", "op": "sys.echo", "input": ["hello": ["from": "python"]]],
            ["id": "s", "layer": "render-html", "op": "sys.sleep", "input": ["ms": 20]],
        ]])
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["e"] == ["hello": ["from": "python"]])
        #expect(view["outputs"]?["s"] == ["slept_ms": 20])
        let pid = try daemon.layerPID("render-html")
        let timedOut = try daemon.run(["steps": [
            ["id": "slow", "layer": "render-html", "op": "sys.sleep", "input": ["ms": 10000], "timeout": "200ms",
             "retry": ["max": 0]],
        ]])
        #expect(timedOut["error"]?["code"] == "timeout", "\(timedOut)")
        #expect(try daemon.layerPID("render-html") == pid)  // it stopped on cancel; nobody had to kill it
    }

    @Test func thePythonPluginDrainsOnShutdown() throws {
        let daemon = try Daemon(pluginDirectories: Self.plugin, systemOpsOnly: ["render-html"])
        #expect(daemon.terminate() == 0)
        let ended = daemon.log.split(separator: "\n").filter { $0.contains("layer.name=render-html") && $0.contains("ended") }
        #expect(ended.contains { $0.contains("exited with status 0") }, "\(ended)")
    }
}
