#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMStore
import JALMWire
import Synchronization
import Testing

/// `POST /exec` with an `Idempotency-Key`: the same key and capsule make one execution however often they
/// are sent, through restarts and kill -9 included; another capsule under a used key is refused.
@Suite(.serialized) struct IdempotencyTests {
    static func capsule(_ intent: String, input: JSONValue = ["n": 1], op: String = "sys.echo") -> [UInt8] {
        JSONWriter.bytes(["intent": .string(intent), "steps": [
            ["id": "e", "layer": "io-file", "op": .string(op), "input": input],
        ]])
    }

    /// One raw `POST /exec` with the key header (when given), on a new connection.
    static func post(_ daemon: Daemon, _ body: [UInt8], key: String?, query: String = "",
                     timeout: Double = 30) throws -> HTTPResponse {
        let client = UnixHTTPClient(endpoint: .unix(path: daemon.socketPath), timeout: timeout)
        return try client.send(method: "POST", path: "/exec" + query, body: body, contentType: "application/json",
                               headers: key.map { [("Idempotency-Key", $0)] } ?? [])
    }

    static func json(_ r: HTTPResponse) -> JSONValue { (try? JSONParser.parse(r.body)) ?? .null }

    static func count(_ daemon: Daemon) throws -> Int {
        try daemon.request("GET", "/exec?limit=1000").1["items"]?.arrayValue?.count ?? -1
    }

    @Test func theSameKeyAndCapsuleAreAnsweredWithTheSameExecution() throws {
        let daemon = try Daemon()
        let body = Self.capsule("replay")
        let first = try Self.post(daemon, body, key: "order-1")
        #expect(first.status == 202, "\(Self.json(first))")
        #expect(first.header("Idempotent-Replayed") == nil)
        let id = try #require(Self.json(first)["execution_id"]?.stringValue)
        let second = try Self.post(daemon, body, key: "order-1")
        #expect(second.status == 200, "\(Self.json(second))")
        #expect(second.header("Idempotent-Replayed") == "true")
        #expect(Self.json(second)["execution_id"]?.stringValue == id)
        #expect(Self.json(second)["state"]?.stringValue != nil, "\(Self.json(second))")
        #expect(try Self.count(daemon) == 1)

        // With ?wait: the first answer is the ended view; the replay is the same execution's view.
        let waited = try Self.post(daemon, Self.capsule("replay waited"), key: "order-2", query: "?wait=30")
        #expect(waited.status == 200 && waited.header("Idempotent-Replayed") == nil, "\(Self.json(waited))")
        #expect(Self.json(waited)["state"] == "completed", "\(Self.json(waited))")
        let waitedID = try #require(Self.json(waited)["execution_id"]?.stringValue)
        #expect(waitedID != id)
        let again = try Self.post(daemon, Self.capsule("replay waited"), key: "order-2", query: "?wait=30")
        #expect(again.status == 200 && again.header("Idempotent-Replayed") == "true", "\(Self.json(again))")
        #expect(Self.json(again)["execution_id"]?.stringValue == waitedID)
        #expect(Self.json(again)["state"] == "completed" && Self.json(again)["outputs"] == ["e": ["n": 1]],
                "\(Self.json(again))")
        #expect(try Self.count(daemon) == 2)

        // Without a key, the same capsule is a new execution each time, answered as before.
        for _ in 0..<2 {
            let r = try Self.post(daemon, body, key: nil)
            #expect(r.status == 202 && r.header("Idempotent-Replayed") == nil)
            #expect(Self.json(r)["state"] == "pending" && Self.json(r)["execution_id"]?.stringValue != id)
        }
        #expect(try Self.count(daemon) == 4)

        // The key outlives the process: after a restart the journal answers it.
        #expect(daemon.terminate() == 0)
        try daemon.start()
        let afterRestart = try Self.post(daemon, body, key: "order-1")
        #expect(afterRestart.status == 200 && afterRestart.header("Idempotent-Replayed") == "true")
        #expect(Self.json(afterRestart)["execution_id"]?.stringValue == id)
        #expect(Self.json(afterRestart)["state"] == "completed", "\(Self.json(afterRestart))")
        #expect(try Self.count(daemon) == 4)
    }

    @Test func aKeyUsedForAnotherCapsuleIs409NamingTheExecution() throws {
        let daemon = try Daemon()
        // While the first execution still runs (the live table answers) and after it ended (the journal does).
        let slow = Self.capsule("slow", input: ["ms": 1500], op: "sys.sleep")
        let first = try Self.post(daemon, slow, key: "pay-7")
        #expect(first.status == 202)
        let id = try #require(Self.json(first)["execution_id"]?.stringValue)
        let live = try Self.post(daemon, slow, key: "pay-7")
        #expect(live.status == 200 && Self.json(live)["execution_id"]?.stringValue == id, "\(Self.json(live))")
        #expect(["pending", "running"].contains(Self.json(live)["state"]?.stringValue ?? ""), "\(Self.json(live))")
        for when in ["running", "ended"] {
            if when == "ended" {
                #expect(try daemon.waitUntil(10) { try daemon.request("GET", "/exec/\(id)").1["state"] == "completed" })
            }
            for query in ["", "?wait=5"] {
                let r = try Self.post(daemon, Self.capsule("another"), key: "pay-7", query: query)
                #expect(r.status == 409, "\(when)\(query): \(Self.json(r))")
                #expect(r.header("Content-Type") == "application/problem+json")
                #expect(r.header("Idempotent-Replayed") == nil)
                let p = Self.json(r)
                #expect(p["type"] == "urn:jalm:error:conflict" && p["code"] == "conflict" && p["status"] == 409, "\(p)")
                #expect(p["details"]?["execution_id"]?.stringValue == id, "\(p)")
                #expect(p["details"]?["header"] == "Idempotency-Key", "\(p)")
            }
        }
        #expect(try Self.count(daemon) == 1)
    }

    @Test func malformedKeysAre422() throws {
        let daemon = try Daemon()
        for key in ["", String(repeating: "k", count: 256), "a b", "tab\there"] {
            let r = try Self.post(daemon, Self.capsule("bad key"), key: key)
            #expect(r.status == 422, "\(key.prefix(20)): \(Self.json(r))")
            #expect(r.header("Content-Type") == "application/problem+json")
            let p = Self.json(r)
            #expect(p["code"] == "invalid_input" && p["type"] == "urn:jalm:error:invalid_input", "\(p)")
            #expect(p["details"]?["header"] == "Idempotency-Key", "\(p)")
        }
        #expect(try Self.count(daemon) == 0)
        // The longest key there may be, of every visible ASCII character.
        let visible = String(decoding: (0x21...0x7E).map { UInt8($0) }, as: UTF8.self)
        let longest = String((visible + visible + visible).prefix(255))
        let r = try Self.post(daemon, Self.capsule("long key"), key: longest)
        #expect(r.status == 202, "\(Self.json(r))")
        #expect(try Self.count(daemon) == 1)
    }

    @Test func jalmRunWithTheSameKeyPrintsTheSameExecution() throws {
        let daemon = try Daemon()
        let file = daemon.dataDir + "-capsule.json"
        try Data(Self.capsule("cli key")).write(to: URL(fileURLWithPath: file))
        func jalm(_ args: [String]) throws -> (status: Int32, out: String, ids: Set<String>) {
            let log = Daemon.makeTempDir() + "/cli.log"
            let pid = try Daemon.spawn(Daemon.binDir + "/jalm", ["--socket", daemon.socketPath] + args, log: log)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let out = try String(contentsOfFile: log, encoding: .utf8)
            let ids = Set(out.matches(of: /ex_[0-9a-f]{22}/).map { String($0.output) })
            return ((status >> 8) & 0xFF, out, ids)
        }
        let first = try jalm(["run", file, "--key", "cli-key-1"])
        #expect(first.status == 0 && first.ids.count == 1, "\(first.out)")
        let second = try jalm(["run", file, "--key", "cli-key-1"])
        #expect(second.status == 0 && second.ids == first.ids, "\(first.out)\n---\n\(second.out)")
        #expect(second.out.contains("was used before"), "\(second.out)")
        #expect(try Self.count(daemon) == 1)
        // The same key for another capsule is refused, and says which execution holds it.
        try Data(Self.capsule("cli key, other capsule")).write(to: URL(fileURLWithPath: file))
        let third = try jalm(["run", file, "--key", "cli-key-1"])
        #expect(third.status != 0, "\(third.out)")
        #expect(third.out.contains("conflict") || third.out.contains("409"), "\(third.out)")
        #expect(try Self.count(daemon) == 1)
    }

    /// 1,000 submissions, each sent with its own key until it is accepted, while jalmd is killed with
    /// SIGKILL and restarted again and again: every key makes exactly one execution, every answer for a key
    /// names that execution, and every execution completes.
    @Test func aThousandKeyedSubmissionsThroughRepeatedKill9RunOnceEach() throws {
        let daemon = try Daemon()
        let total = 1000, clients = 8, kills = 8
        let run = UInt32.random(in: 0..<UInt32.max)
        let keys = (0..<total).map { "crash-\(run)-\($0)" }
        let bodies = keys.map { key in Self.capsule("crash test", input: ["key": .string(key)]) }

        struct Shared {
            var next = 0
            var done = 0
            var answers: [[String]]
            var retries = 0
            var retriesByKind: [String: Int] = [:]
            var failures: [String] = []
            var restarts = 0
            /// Keys whose first submission failed at least once before an answer.
            var retriedKeys = 0
            /// Of those, the ones answered as a replay: the execution had been made, its answer lost.
            var lostAnswersReplayed = 0
        }
        let shared = Mutex(Shared(answers: Array(repeating: [], count: total)))
        let started = Date()
        let deadline = started.addingTimeInterval(90)

        /// Sends key `i` until a 2xx comes back (a broken or refused connection and a 503 are retried with the
        /// same key); records the execution id that answer names.
        @Sendable func submit(_ i: Int, first: Bool = false) {
            let client = UnixHTTPClient(endpoint: .unix(path: daemon.socketPath), timeout: 15)
            var failedBefore = false
            while Date() < deadline {
                var kind: String
                do throws(HTTPClientError) {
                    let r = try client.send(method: "POST", path: "/exec", body: bodies[i], contentType: "application/json",
                                            headers: [("Idempotency-Key", keys[i])])
                    if (200..<300).contains(r.status) {
                        let id = Self.json(r)["execution_id"]?.stringValue ?? "?"
                        let replayed = r.header("Idempotent-Replayed") == "true"
                        shared.withLock {
                            $0.answers[i].append(id)
                            if first && failedBefore {
                                $0.retriedKeys += 1
                                if replayed { $0.lostAnswersReplayed += 1 }
                            }
                        }
                        return
                    }
                    guard r.status == 503 else {
                        shared.withLock {
                            $0.failures.append("\(keys[i]): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
                        }
                        return
                    }
                    kind = "503"
                } catch {
                    switch error {
                    case .unreachable: kind = "refused"
                    case .malformed: kind = "broken"
                    case .timedOut: kind = "timed out"
                    case .io: kind = "io"
                    case .tooLarge: kind = "too large"
                    }
                }
                failedBefore = true
                shared.withLock {
                    $0.retries += 1
                    $0.retriesByKind[kind, default: 0] += 1
                }
                usleep(20_000)
            }
            shared.withLock { $0.failures.append("\(keys[i]): no 2xx before the deadline") }
        }

        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                while let i = shared.withLock({ s -> Int? in
                    guard s.next < total else { return nil }
                    defer { s.next += 1 }
                    return s.next
                }) {
                    submit(i, first: true)
                    // Every third key is sent again at once, as a client unsure of its answer would.
                    if i % 3 == 0 { submit(i) }
                    shared.withLock { $0.done += 1 }
                }
            }.start()
        }
        // The killer: one kill -9 at a random moment inside each eighth of the run, then a restart.
        group.enter()
        Thread {
            defer { group.leave() }
            let span = (total - 80) / kills
            for k in 0..<kills {
                let at = 40 + k * span + Int.random(in: 0..<span)
                while shared.withLock({ $0.done }) < at && Date() < deadline { usleep(2_000) }
                usleep(UInt32.random(in: 0..<20_000))
                daemon.kill9()
                do {
                    try daemon.start()
                    shared.withLock { $0.restarts += 1 }
                } catch {
                    shared.withLock { $0.failures.append("restart \(k + 1) failed: \(error)") }
                    return
                }
            }
        }.start()
        group.wait()
        let submitted = Date()

        // Once more for every key, after the last restart: the journal still answers each with its execution.
        for i in 0..<total { submit(i) }

        let file = try JournalFile(daemon.dataDir)
        func unfinished() throws -> Int64 {
            try file.db.withStatement("SELECT count(*) FROM executions WHERE state != 'completed'") { s in
                _ = try s.step()
                return s.int64(at: 0)
            }
        }
        #expect(try daemon.waitUntil(30) { try unfinished() == 0 }, "\((try? unfinished()) ?? -1) executions did not complete")
        let finished = Date()
        #expect(daemon.terminate() == 0)

        let s = shared.withLock { $0 }
        #expect(s.failures.isEmpty, "\(s.failures.prefix(20))")
        #expect(s.restarts == kills)

        let db = try SQLiteConnection(path: daemon.dataDir + "/journal.sqlite", flags: [.readOnly, .noMutex])
        defer { db.close() }
        var journaled: [String: [String]] = [:]
        var states: [String: Int] = [:]
        var rows = 0
        try db.withStatement("SELECT id, idempotency_key, state FROM executions") { st in
            while try st.step() {
                rows += 1
                journaled[st.string(at: 1) ?? "(none)", default: []].append(st.string(at: 0) ?? "")
                states[st.string(at: 2) ?? "", default: 0] += 1
            }
        }
        let duplicates = journaled.filter { $0.value.count > 1 }
        let echoed = try db.withStatement("""
            SELECT count(*) FROM step_runs r JOIN executions x ON x.id = r.execution_id
            WHERE r.state = 'ok' AND json_extract(r.output, '$.key') = x.idempotency_key
            """) { st in _ = try st.step(); return st.int64(at: 0) }

        print("""
            idempotency crash test: \(total) keys from \(clients) clients, \(s.restarts) kill -9 and restarts, \
            \(s.retries) retries \(s.retriesByKind.sorted { $0.key < $1.key }) for \(s.retriedKeys) keys, \
            \(s.lostAnswersReplayed) of which had been made and were answered as replays, \
            \(s.answers.map(\.count).reduce(0, +)) accepted answers; submitted in \
            \(String(format: "%.1f", submitted.timeIntervalSince(started))) s, all completed after \
            \(String(format: "%.1f", finished.timeIntervalSince(started))) s; journal: \(rows) executions, \
            \(journaled.count) distinct keys, states \(states)
            """)

        #expect(rows == total, "executions in the journal")
        #expect(journaled.count == total, "distinct keys in the journal")
        #expect(Set(journaled.keys) == Set(keys))
        #expect(duplicates.isEmpty, "keys with more than one execution: \(duplicates.prefix(10))")
        #expect(states == ["completed": total])
        #expect(echoed == Int64(total), "each execution echoed its own key")
        for (i, key) in keys.enumerated() {
            let answered = Set(s.answers[i])
            #expect(answered.count == 1, "\(key) was answered with \(s.answers[i])")
            #expect(s.answers[i].count == (i % 3 == 0 ? 3 : 2), "\(key): \(s.answers[i])")
            #expect(answered == Set(journaled[key] ?? []), "\(key): answered \(answered), journaled \(journaled[key] ?? [])")
        }
        #expect(finished.timeIntervalSince(started) < 90)
    }
}
