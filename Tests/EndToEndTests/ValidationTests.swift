import Foundation
import JALMClient
import JALMWire
import Testing

/// Bad input gets a problem+json with a JSON Pointer to the field, never a crash.
@Suite(.serialized) struct ValidationTests {
    let daemon: Daemon
    init() throws { daemon = try Daemon() }

    private func problem(_ capsule: JSONValue) throws -> (Int, JSONValue) {
        try daemon.request("POST", "/exec", json: capsule)
    }

    /// The whole problem document as docs/api.md describes it: `type` is `urn:jalm:error:<code>`, and no
    /// field is missing or added.
    private func expectProblem(_ p: JSONValue, status: Int, title: String, code: String, detail: String,
                               pointer: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        var expected: [String: JSONValue] = [
            "type": .string("urn:jalm:error:\(code)"), "status": .int(Int64(status)), "title": .string(title),
            "detail": .string(detail), "code": .string(code),
        ]
        if let pointer { expected["pointer"] = .string(pointer) }
        #expect(p == .object(expected), sourceLocation: sourceLocation)
    }

    @Test func anUnknownOpIs422PointingAtTheOp() throws {
        let (status, p) = try problem(["steps": [["id": "a", "layer": "io-file", "op": "explode", "input": [:]]]])
        #expect(status == 422)
        expectProblem(p, status: 422, title: "Unprocessable Content", code: "invalid_input",
                      detail: "layer \"io-file\" has no op \"explode\"; available ops: append, checksum, copy, "
                          + "csv.read, csv.write, delete, json.read, list, mkdir, move, read, stat, sys.echo, sys.sleep, write",
                      pointer: "/steps/0/op")
    }

    @Test func aBadInputIs422PointingIntoTheInput() throws {
        let (status, p) = try problem(["steps": [["id": "a", "layer": "io-file", "op": "read", "input": ["path": 5]]]])
        #expect(status == 422)
        #expect(p["pointer"] == "/steps/0/input/path", "\(p)")
    }

    @Test func aTemplateToALaterStepIs422PointingAtTheString() throws {
        let (status, p) = try problem(["steps": [
            ["id": "a", "layer": "io-file", "op": "read", "input": ["path": "{{ steps.b.output.path }}"]],
            ["id": "b", "layer": "io-file", "op": "stat", "input": ["path": "x"]],
        ]])
        #expect(status == 422)
        #expect(p["pointer"] == "/steps/0/input/path", "\(p)")
    }

    @Test func aMalformedTemplateIs422() throws {
        let (status, p) = try problem(["steps": [["id": "a", "layer": "io-file", "op": "sys.echo", "input": ["x": "{{ steps.a"]]]])
        #expect(status == 422 && p["pointer"] == "/steps/0/input/x", "\(p)")
    }

    @Test func theJalmConfigWrapperShiftsPointers() throws {
        let (status, p) = try problem(["jalm_config": ["steps": [["id": "a", "layer": "nope", "op": "x"]]]])
        #expect(status == 422 && p["pointer"] == "/jalm_config/steps/0/layer", "\(p)")
    }

    @Test func problemsAreProblemJSON() throws {
        let r = try UnixHTTPClient(endpoint: .unix(path: daemon.socketPath)).send(method: "POST", path: "/exec", body: Array("{".utf8), contentType: "application/json")
        #expect(r.status == 422)
        #expect(r.header("content-type") == "application/problem+json")
        #expect((try? JSONParser.parse(r.body))?["type"] == "urn:jalm:error:invalid_input")
    }

    /// A status set outside Problem.status(for:) keeps the type of its code.
    @Test func aBadWaitIs400WithTheInvalidInputType() throws {
        let (status, p) = try daemon.request("POST", "/exec?wait=3601", json: ["steps": []])
        #expect(status == 400)
        expectProblem(p, status: 400, title: "Bad Request", code: "invalid_input",
                      detail: "wait must be a number of seconds from 0 to 3600", pointer: "/wait")
    }

    @Test func aBodyOverTheLimitIs413AndTheDaemonStaysUp() throws {
        let big = [UInt8](repeating: 0x20, count: 4 * 1024 * 1024 + 1)
        let (status, p) = try daemon.request("POST", "/exec", body: big, contentType: "application/json")
        #expect(status == 413)
        expectProblem(p, status: 413, title: "Content Too Large", code: "resource_exhausted",
                      detail: "request body exceeds max_body_bytes (4194304 bytes)")
        #expect(try daemon.request("GET", "/health").0 == 200)
    }

    @Test func deeplyNestedInputIsRefusedNotACrash() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let (status, _) = try daemon.request("POST", "/exec", body: Array(deep.utf8), contentType: "application/json")
        #expect(status == 422)
        #expect(try daemon.request("GET", "/health").0 == 200)
    }

    @Test func anUnknownExecutionIs404() throws {
        let (status, p) = try daemon.request("GET", "/exec/ex_000000000000aaaaaaaaaa")
        #expect(status == 404)
        expectProblem(p, status: 404, title: "Not Found", code: "not_found",
                      detail: "no execution ex_000000000000aaaaaaaaaa")
        #expect(try daemon.request("GET", "/exec/nonsense").0 == 404)
        #expect(try daemon.request("POST", "/exec/ex_000000000000aaaaaaaaaa/cancel").0 == 404)
    }

    @Test func listingPagesThroughEveryExecutionOnce() throws {
        var ids: Set<String> = []
        for i in 0..<5 {
            let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["i": .int(Int64(i))]]]])
            #expect(s == 202)
            ids.insert(r["execution_id"]?.stringValue ?? "")
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let path = "/exec?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let (s, page) = try daemon.request("GET", path)
            #expect(s == 200)
            seen += (page["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            cursor = page["next_cursor"]?.stringValue
        } while cursor != nil
        #expect(Set(seen) == ids && seen.count == ids.count)
        #expect(try daemon.request("GET", "/exec?state=bogus").0 == 422)
    }

}
