import Foundation
import JALMWire
import Testing

/// The usage example of the reference README (../shared/reference/core-runner-readme.md), word for word
/// but for the URL (the loopback test server instead of httpbin.org, with the operator's allow rule for
/// it): a `jalm_config`-wrapped capsule whose io-http step names no op, so the layer's default op
/// (`request`, `default_op` in kernel/layers.json) runs; then its status by id.
@Suite(.serialized) struct ReferenceExampleTests {
    @Test func theReferenceReadmesExampleRunsAsWritten() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let body = """
            {
                "jalm_config": {
                  "intent": "test_execution",
                  "steps": [
                    {
                      "id": "http_request",
                      "layer": "io-http",
                      "input": {
                        "method": "GET",
                        "url": "\(server.httpURL)/json"
                      }
                    }
                  ]
                }
              }
            """
        let (status, accepted) = try daemon.request("POST", "/exec", body: Array(body.utf8),
                                                    contentType: "application/json")
        #expect(status == 202, "\(accepted)")
        let id = try #require(accepted["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(20) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["intent"] == "test_execution")
        #expect(view["steps"]?[0]?["op"] == "request", "\(view)")
        #expect(view["outputs"]?["http_request"]?["status"] == 200, "\(view)")
        #expect(view["outputs"]?["http_request"]?["body"] == ["ok": true, "items": [1, 2, 3]], "\(view)")
    }

    @Test func aStepWithoutOpOnALayerWithoutADefaultIsA422AtOp() throws {
        let daemon = try Daemon()
        let (status, problem) = try daemon.request("POST", "/exec", json: [
            "steps": [["id": "r", "layer": "io-file", "input": ["path": "x"]]],
        ])
        #expect(status == 422, "\(problem)")
        #expect(problem["pointer"] == "/steps/0/op", "\(problem)")
        #expect(problem["detail"]?.stringValue?.contains("layer \"io-file\" has no default op (layers with one: io-http)") == true,
                "\(problem)")
    }
}
