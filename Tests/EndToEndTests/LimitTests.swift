import Foundation
import JALMWire
import Testing

/// Every limit is named, configurable and tested at its edge.
@Suite(.serialized) struct LimitTests {
    @Test func aBodyExactlyAtMaxBodyBytesIsAcceptedAndOneByteMoreIs413() throws {
        let daemon = try Daemon(config: "max_body_bytes: 2048")
        var body = Array(#"{"steps":[{"id":"e","layer":"io-file","op":"sys.echo","input":{}}]}"#.utf8)
        body += [UInt8](repeating: 0x20, count: 2048 - body.count)
        #expect(try daemon.request("POST", "/exec", body: body, contentType: "application/json").0 == 202)
        let (status, p) = try daemon.request("POST", "/exec", body: body + [0x20], contentType: "application/json")
        #expect(status == 413 && p["code"] == "resource_exhausted", "\(p)")
    }

    @Test func aCallOverMaxFrameBytesFailsAloneAndTheLayerKeepsItsProcess() throws {
        let daemon = try Daemon(config: "max_frame_bytes: 4096")
        let pid = try daemon.layerPID("io-file")
        let big = String(repeating: "x", count: 5000)
        let view = try daemon.run(["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["s": .string(big)]]]])
        #expect(view["error"]?["code"] == "resource_exhausted", "\(view)")
        let message = view["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("max_frame_bytes"), "\(message)")
        let small = try daemon.run(["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["s": "ok"]]]])
        #expect(small["state"] == "completed")
        #expect(try daemon.layerPID("io-file") == pid)
    }

    @Test func aReplyOverMaxFrameBytesIsRefusedByThePluginNotTheConnection() throws {
        let daemon = try Daemon(config: "max_frame_bytes: 4096")
        let pid = try daemon.layerPID("io-file")
        let chunk = JSONValue.string(String(repeating: "y", count: 3000))
        let view = try daemon.run(["steps": [
            ["id": "a", "layer": "io-file", "op": "append", "input": ["path": "big.txt", "content": chunk]],
            ["id": "b", "layer": "io-file", "op": "append", "input": ["path": "big.txt", "content": chunk]],
            ["id": "r", "layer": "io-file", "op": "read", "input": ["path": "big.txt"], "retry": ["max": 0]],
        ]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "resource_exhausted", "\(view)")
        #expect(try daemon.layerPID("io-file") == pid)
    }
}
