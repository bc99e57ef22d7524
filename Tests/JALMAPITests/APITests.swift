#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JALMAPI
import JALMKernel
import JALMWire
import Logging
import Testing

/// The routes of the API over a real kernel made in this process (its real catalog and layer plugins,
/// unconfined), driven by Hummingbird's router test client: no socket, no jalmd.
@Suite(.serialized) struct APITests {
    /// Where the built plugins are: beside the test bundle (`swift test` runs .build/<triple>/debug/…xctest).
    static let binDir: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = (exe as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: dir + "/jalm-layer-io-file") {
            dir = ProcessInfo.processInfo.environment["JALM_BIN_DIR"] ?? dir
        }
        return dir
    }()

    /// The checkout: its `kernel/` (catalog) and `plugins/` (manifests) are the kernel's share folder.
    static let repoDir: String = {
        var dir = binDir
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir + "/kernel/atoms.csv") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return FileManager.default.currentDirectoryPath
    }()

    static func tempDir() -> String {
        var template = Array("/tmp/jalm-api-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    /// Makes a kernel over a fresh data folder, starts it (its layers greet, its journal is recovered), runs
    /// `body` against the router built over it, and shuts the kernel down (drain, layers, journal) after.
    static func withAPI(token: String? = nil,
                        _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let root = tempDir()
        var config = KernelConfig(dataDirectory: root + "/data", shareDirectory: repoDir, binDirectory: binDir)
        config.sandbox = .off  // no launcher, no cgroups: the plugins run as children of the test process
        config.listen = nil
        config.socketPath = root + "/jalmd.sock"
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        var logger = Logger(label: "jalm-api-tests")
        logger.logLevel = .error
        let kernel = try Kernel(config: config, logger: logger)
        await kernel.start()
        let app = Application(router: Routes.router(commands: KernelCommands(kernel), token: token))
        do {
            try await app.test(.router, body)
        } catch {
            await kernel.shutdown()
            throw error
        }
        await kernel.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func json(_ r: TestResponse) -> JSONValue {
        (try? JSONParser.parse(Array(buffer: r.body))) ?? .string(String(buffer: r.body))
    }

    static func body(_ value: JSONValue) -> ByteBuffer { ByteBuffer(bytes: JSONWriter.bytes(value)) }

    static let echo: JSONValue = ["intent": "api test", "steps": [
        ["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["hello": "world"]],
    ]]

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    static func keyed(_ key: String) -> HTTPFields {
        [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: key]
    }

    @Test func rootHealthAndCatalog() async throws {
        try await Self.withAPI { client in
            let root = try await client.execute(uri: "/", method: .get)
            #expect(root.status == .ok)
            #expect(root.headers[.contentType] == "application/json")
            let about = Self.json(root)
            #expect(about["name"] == "jalmd" && about["version"]?.stringValue?.isEmpty == false, "\(about)")
            #expect(about["uptime_s"]?.doubleValue != nil, "\(about)")

            let health = try await client.execute(uri: "/health", method: .get)
            let h = Self.json(health)
            #expect(health.status == .ok, "\(h)")
            #expect(h["layers"]?.objectValue?.count == 6, "\(h)")
            #expect(h["reasons"] == [], "\(h)")
            // Unconfined layers are said loudly: ready, but degraded.
            #expect(h["status"] == "degraded", "\(h)")
            #expect(h["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("sandbox off") == true } == true, "\(h)")

            let catalog = try await client.execute(uri: "/catalog", method: .get)
            #expect(catalog.status == .ok)
            let c = Self.json(catalog)
            #expect(c["layers"]?.arrayValue?.count == 6, "\(c)")
        }
    }

    @Test func submittingWithAndWithoutWait() async throws {
        try await Self.withAPI { client in
            let waited = try await client.execute(uri: "/exec?wait=10", method: .post, headers: Self.jsonHeaders,
                                                  body: Self.body(Self.echo))
            let view = Self.json(waited)
            #expect(waited.status == .ok, "\(view)")
            #expect(view["state"] == "completed", "\(view)")
            #expect(view["outputs"] == ["e": ["hello": "world"]], "\(view)")
            #expect(view["execution_id"]?.stringValue?.hasPrefix("ex_") == true, "\(view)")
            #expect(waited.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)

            let accepted = try await client.execute(uri: "/exec", method: .post, headers: Self.jsonHeaders,
                                                    body: Self.body(Self.echo))
            let answer = Self.json(accepted)
            #expect(accepted.status == .accepted, "\(answer)")
            #expect(answer["state"] == "pending" && answer.objectValue?.count == 2, "\(answer)")
            let id = try #require(answer["execution_id"]?.stringValue)
            var state: JSONValue?
            for _ in 0..<500 {
                let r = try await client.execute(uri: "/exec/\(id)", method: .get)
                #expect(r.status == .ok)
                state = Self.json(r)["state"]
                if state == "completed" { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(state == "completed")

            let list = try await client.execute(uri: "/exec", method: .get)
            #expect(list.status == .ok)
            #expect(Self.json(list)["items"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" }.first == id, "newest first")
            #expect(Self.json(list)["items"]?.arrayValue?.count == 2)
        }
    }

    @Test func badRequestsAreProblems() async throws {
        try await Self.withAPI { client in
            let bad: JSONValue = ["steps": [["id": "a", "layer": "io-file", "op": "explode", "input": [:]]]]
            let invalid = try await client.execute(uri: "/exec", method: .post, headers: Self.jsonHeaders, body: Self.body(bad))
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.headers[.contentType] == "application/problem+json")
            let p = Self.json(invalid)
            #expect(p["type"] == "urn:jalm:error:invalid_input" && p["code"] == "invalid_input" && p["status"] == 422, "\(p)")
            #expect(p["pointer"] == "/steps/0/op", "\(p)")
            #expect(p["title"] == "Unprocessable Content", "\(p)")

            let badInput: JSONValue = ["steps": [["id": "a", "layer": "io-file", "op": "read", "input": ["path": 5]]]]
            let deep = try await client.execute(uri: "/exec", method: .post, headers: Self.jsonHeaders, body: Self.body(badInput))
            #expect(deep.status == .unprocessableContent && Self.json(deep)["pointer"] == "/steps/0/input/path",
                    "\(Self.json(deep))")

            let notJSON = try await client.execute(uri: "/exec", method: .post, headers: Self.jsonHeaders,
                                                   body: ByteBuffer(string: "{\"steps\": ["))
            #expect(notJSON.status == .unprocessableContent, "\(Self.json(notJSON))")

            let wait = try await client.execute(uri: "/exec?wait=abc", method: .post, headers: Self.jsonHeaders,
                                                body: Self.body(Self.echo))
            #expect(wait.status == .badRequest)
            #expect(Self.json(wait)["pointer"] == "/wait" && Self.json(wait)["status"] == 400, "\(Self.json(wait))")

            for id in ["ex_0000000000000000000000", "nope"] {
                let missing = try await client.execute(uri: "/exec/\(id)", method: .get)
                #expect(missing.status == .notFound)
                #expect(Self.json(missing)["code"] == "not_found", "\(Self.json(missing))")
            }
            let cancel = try await client.execute(uri: "/exec/ex_0000000000000000000000/cancel", method: .post)
            #expect(cancel.status == .notFound)

            for query in ["limit=0", "limit=1001", "limit=abc"] {
                let list = try await client.execute(uri: "/exec?\(query)", method: .get)
                #expect(list.status == .unprocessableContent, "\(query)")
                #expect(Self.json(list)["pointer"] == "/limit", "\(query): \(Self.json(list))")
            }
            let state = try await client.execute(uri: "/exec?state=sleeping", method: .get)
            #expect(state.status == .unprocessableContent && Self.json(state)["pointer"] == "/state")

            let layer = try await client.execute(uri: "/layers/nope", method: .get)
            #expect(layer.status == .notFound)

            // Nothing was made by any of these.
            let list = try await client.execute(uri: "/exec", method: .get)
            #expect(Self.json(list)["items"] == [], "\(Self.json(list))")
        }
    }

    @Test func idempotencyKeysReplayAndConflict() async throws {
        try await Self.withAPI { client in
            let first = try await client.execute(uri: "/exec", method: .post, headers: Self.keyed("k-1"),
                                                 body: Self.body(Self.echo))
            #expect(first.status == .accepted)
            let id = try #require(Self.json(first)["execution_id"]?.stringValue)
            let replayed = HTTPField.Name("Idempotent-Replayed")!
            #expect(first.headers[replayed] == nil)

            let again = try await client.execute(uri: "/exec", method: .post, headers: Self.keyed("k-1"),
                                                 body: Self.body(Self.echo))
            #expect(again.status == .ok)
            #expect(again.headers[replayed] == "true")
            #expect(Self.json(again)["execution_id"]?.stringValue == id)

            let waited = try await client.execute(uri: "/exec?wait=10", method: .post, headers: Self.keyed("k-1"),
                                                  body: Self.body(Self.echo))
            #expect(waited.status == .ok && waited.headers[replayed] == "true")
            #expect(Self.json(waited)["execution_id"]?.stringValue == id)
            #expect(Self.json(waited)["state"] == "completed", "\(Self.json(waited))")

            var other = Self.echo
            if case .object(var o) = other { o["intent"] = "another capsule"; other = .object(o) }
            let conflict = try await client.execute(uri: "/exec", method: .post, headers: Self.keyed("k-1"),
                                                    body: Self.body(other))
            #expect(conflict.status == .conflict)
            #expect(conflict.headers[.contentType] == "application/problem+json")
            let p = Self.json(conflict)
            #expect(p["type"] == "urn:jalm:error:conflict" && p["code"] == "conflict", "\(p)")
            #expect(p["details"]?["execution_id"]?.stringValue == id, "\(p)")

            let malformed = try await client.execute(uri: "/exec", method: .post,
                                                     headers: Self.keyed(String(repeating: "k", count: 256)),
                                                     body: Self.body(Self.echo))
            #expect(malformed.status == .unprocessableContent && Self.json(malformed)["code"] == "invalid_input")

            let list = try await client.execute(uri: "/exec", method: .get)
            #expect(Self.json(list)["items"]?.arrayValue?.count == 1, "\(Self.json(list))")
        }
    }

    @Test func aTokenIsRequiredWhenTheRouterHasOne() async throws {
        try await Self.withAPI(token: "s3cret") { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "s3cret"],
                                        [.authorization: "Bearer s3cret2"]] {
                for (uri, method) in [("/health", HTTPRequest.Method.get), ("/exec", .get), ("/exec", .post), ("/catalog", .get)] {
                    let r = try await client.execute(uri: uri, method: method, headers: headers)
                    #expect(r.status == .unauthorized, "\(method) \(uri) with \(headers)")
                    #expect(r.headers[.contentType] == "application/problem+json")
                }
            }
            let denied = try await client.execute(uri: "/health", method: .get)
            #expect(Self.json(denied)["code"] == "invalid_input" && Self.json(denied)["status"] == 401, "\(Self.json(denied))")

            let auth: HTTPFields = [.authorization: "Bearer s3cret"]
            let health = try await client.execute(uri: "/health", method: .get, headers: auth)
            #expect(health.status == .ok)
            var submit = auth
            submit[.contentType] = "application/json"
            let run = try await client.execute(uri: "/exec?wait=10", method: .post, headers: submit, body: Self.body(Self.echo))
            #expect(run.status == .ok && Self.json(run)["state"] == "completed", "\(Self.json(run))")
        }
    }
}
