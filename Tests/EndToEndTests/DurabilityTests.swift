#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMStore
import JALMWire
import Testing

/// Nothing accepted is lost: kill -9 of the kernel, SIGTERM drains, a write in flight is never repeated blindly.
@Suite(.serialized) struct DurabilityTests {
    static let slowWriteCard = """
        layer: io-http
        op: test.slow_write
        summary: A write that takes ms milliseconds (test fixture).
        side_effect: write
        io_type: test
        timeout: 60s
        input: {type: object, properties: {ms: {type: integer}}, additionalProperties: false}
        output: {type: object}
        examples:
          - name: writes
            input: {ms: 1}
            output: {wrote: true}
        """

    @Test func afterKill9TheKernelResumesFromTheFirstUnfinishedStepAndRunsNoFinishedStepTwice() throws {
        let daemon = try Daemon()
        let steps: [JSONValue] = (0..<5).map { i in
            ["id": .string("s\(i)"), "layer": "io-file", "op": "sys.sleep", "input": ["ms": 300]]
        }
        let (_, r) = try daemon.request("POST", "/exec", json: ["intent": "sleepy", "steps": .array(steps)])
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) {
            let view = try daemon.request("GET", "/exec/\(id)").1
            return view["steps"]?[1]?["state"] == "ok"
        })
        daemon.kill9()
        let finishedBefore = Set(try Journal(daemon.dataDir).okSteps(id))
        #expect(finishedBefore.count >= 1)
        try daemon.start()
        #expect(try daemon.waitUntil(15) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
        let rows = try Journal(daemon.dataDir).runs(id)
        for step in finishedBefore {
            #expect(rows.filter { $0.step == step }.count == 1, "step \(step) finished before the kill and ran again")
        }
        #expect(Set(rows.filter { $0.state == "ok" }.map(\.step)) == Set(0..<5))
    }

    @Test func aWriteStepInFlightAtKill9IsMarkedUnknownAndNotRepeated() throws {
        let daemon = try Daemon(fixtures: ["io-http": "echo"], extraCards: ["io-http.test.slow_write": Self.slowWriteCard])
        let (s, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "w", "layer": "io-http", "op": "test.slow_write", "input": ["ms": 5000]],
        ]])
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["steps"]?[0]?["state"] == "dispatched" })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        #expect(view["error"]?["code"] == "unknown", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "unknown")
        #expect(view["steps"]?[0]?["attempts"] == 1)
    }

    @Test func sigtermDrainsRunningExecutionsAndExitsZero() throws {
        let daemon = try Daemon()
        let (_, r) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 500]],
        ]])
        let id = try #require(r["execution_id"]?.stringValue)
        usleep(100_000)
        #expect(daemon.terminate() == 0)
        #expect(try Journal(daemon.dataDir).state(id) == "completed")
    }

    @Test func listeningBeyondLoopbackWithoutATokenIsRefusedWithAReason() throws {
        let dir = Daemon.makeTempDir()
        let log = dir + "/log"
        let pid = try Daemon.spawn(Daemon.binDir + "/jalmd", ["--data", dir, "--listen", "0.0.0.0:18999"], log: log)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect((status >> 8) & 0xFF != 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("requires a bearer token"), "\(text)")
    }
}

/// Reads the journal file directly, through the store's own reader, after the daemon has stopped.
struct Journal {
    let store: Store
    init(_ dataDir: String) throws { store = try Store(path: dataDir + "/journal.sqlite") }

    struct Row { var step: Int; var attempt: Int; var state: String }

    func runs(_ id: String) throws -> [Row] {
        try store.stepRuns(executionID: id).map { Row(step: $0.stepIndex, attempt: $0.attempt, state: $0.state) }
    }

    func okSteps(_ id: String) throws -> [Int] { try runs(id).filter { $0.state == "ok" }.map(\.step) }

    func state(_ id: String) throws -> String? { try store.execution(id: id)?.state }
}
