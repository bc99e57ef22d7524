import HTTPTypes
import Hummingbird
import JALMCore
import JALMEngine
import JALMKernel
import JALMWire

/// The route handlers: each turns a request into a call on the kernel and a JSON or problem response.
struct Handlers: Sendable {
    let commands: KernelCommands

    /// The longest `?wait=` a client may ask for.
    static let maxWaitSeconds = 3600.0

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func root() -> Response {
        let about = commands.about
        return JSONResponse.make([
            "name": .string(about.name), "version": .string(about.version),
            "uptime_s": .double(Self.seconds(about.uptime)),
        ])
    }

    func health() -> Response {
        let h = commands.health()
        let status: JSONValue = !h.ok ? "unavailable" : h.warnings.isEmpty ? "ok" : "degraded"
        return JSONResponse.make(
            ["status": status, "layers": .object(h.layerStates), "reasons": .array(h.reasons.map { .string($0) }),
             "warnings": .array(h.warnings.map { .string($0) })],
            status: h.ok ? .ok : .serviceUnavailable)
    }

    /// `POST /lint`: the checks of `POST /exec` (same body, same limits, same 422s), nothing run.
    func lint(_ request: Request) async -> Response {
        do {
            let body = try await capsuleBody(request)
            let summary = try commands.lint(body: body, contentType: request.headers[.contentType])
            return JSONResponse.make(summary, status: .ok)
        } catch {
            return Problem.response(error)
        }
    }

    func submit(_ request: Request) async -> Response {
        var request = request
        let wait: Double?
        if let w = request.uri.queryParameters["wait"] {
            guard let s = Double(String(w)), s >= 0, s <= Self.maxWaitSeconds else {
                return Problem.response(RunnerError(.invalidInput, "wait must be a number of seconds from 0 to 3600",
                                                    pointer: "/wait"), status: .badRequest)
            }
            wait = s
        } else {
            wait = nil
        }
        var dryRun = false
        if let d = request.uri.queryParameters["dry_run"] {
            switch String(d) {
            case "1", "true": dryRun = true
            case "0", "false": dryRun = false
            default:
                return Problem.response(RunnerError(.invalidInput, "dry_run must be 1, true, 0 or false", pointer: "/dry_run"),
                                        status: .badRequest)
            }
        }
        do {
            let body = try await capsuleBody(request)
            let key = request.headers[Self.idempotencyKey]
            // Without ?wait the answer comes at once, so the execution must be on disk before it; with ?wait
            // the answer comes at its end, which is journaled durably, or after a flush when time runs out.
            let submission = try await commands.submit(body: body, contentType: request.headers[.contentType],
                                                       idempotencyKey: key, acknowledge: wait == nil, dryRun: dryRun)
            var response = try await answer(submission, wait: wait)
            if submission.replayed { response.headers[Self.idempotentReplayed] = "true" }
            return response
        } catch {
            return Problem.response(error)
        }
    }

    /// A capsule's bytes, at most `max_body_bytes` (`POST /exec`, `POST /lint`).
    func capsuleBody(_ request: Request) async throws(RunnerError) -> [UInt8] {
        var request = request
        let maxBodyBytes = commands.settings.maxBodyBytes
        do {
            return Array(buffer: try await request.collectBody(upTo: maxBodyBytes))
        } catch {
            throw RunnerError(.resourceExhausted, "request body exceeds max_body_bytes (\(maxBodyBytes) bytes)")
        }
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!

    /// A new execution: 202 with its id, or (with ?wait) its view, 200 if it ended in time. A replay of an
    /// earlier submission: 200 with the execution as it is now (its view, with ?wait, once it ended or the
    /// wait ran out).
    private func answer(_ submission: Submission, wait: Double?) async throws(RunnerError) -> Response {
        let id = submission.id
        guard let wait else {
            guard submission.replayed else {
                return JSONResponse.make(["execution_id": .string(id), "state": "pending"], status: .accepted)
            }
            let state = try commands.view(id: id).state
            return JSONResponse.make(["execution_id": .string(id), "state": .string(state.rawValue)])
        }
        let snapshot: ExecutionSnapshot
        if let ended = await commands.waitForEnd(id: id, timeout: .milliseconds(Int64(wait * 1000))) {
            snapshot = ended
        } else {
            try await commands.flush()
            snapshot = try commands.view(id: id)
        }
        return JSONResponse.make(bytes: snapshot.bytes(executionID: true),
                                 status: snapshot.state.isFinal || submission.replayed ? .ok : .accepted)
    }

    func list(_ request: Request) -> Response {
        let q = request.uri.queryParameters
        guard let limit = q["limit"].map({ Int(String($0)) }) ?? 50 else {
            return Problem.response(RunnerError(.invalidInput, "limit must be an integer", pointer: "/limit"))
        }
        do {
            return JSONResponse.make(try commands.list(
                state: q["state"].map(String.init), limit: limit, cursor: q["cursor"].map(String.init)))
        } catch {
            return Problem.response(error)
        }
    }

    func view(_ id: String) -> Response {
        do { return JSONResponse.make(bytes: try commands.view(id: id).bytes()) } catch { return Problem.response(error) }
    }

    func cancel(_ id: String) async -> Response {
        do {
            return JSONResponse.make(bytes: try await commands.cancel(id: id).bytes())
        } catch {
            return Problem.response(error)
        }
    }

    func layers() -> Response {
        JSONResponse.make(["layers": .array(commands.layers())])
    }

    func layer(_ name: String) -> Response {
        do { return JSONResponse.make(try commands.layer(name)) } catch { return Problem.response(error) }
    }

    func sandbox(_ name: String) -> Response {
        do { return JSONResponse.make(try commands.sandbox(name)) } catch { return Problem.response(error) }
    }

    /// The longest drain a swap may be given.
    static let maxSwapTimeout = 3600.0

    /// `POST /layers/{name}/swap` with `{"binary": PATH}` or `{"manifest": PATH}` and an optional
    /// `"timeout"` (seconds the old generation has to drain, default 30).
    func swap(_ name: String, _ request: Request, by who: String) async -> Response {
        do {
            // An unknown layer is refused before the body is read.
            try commands.checkLayer(name)
            let doc = try await Self.smallJSONBody(request)
            let timeout = try Self.swapTimeout(doc)
            return JSONResponse.make(try await commands.swap(name, request: doc, timeout: timeout, by: who))
        } catch {
            return Problem.response(error)
        }
    }

    func rollback(_ name: String, _ request: Request, by who: String) async -> Response {
        do {
            try commands.checkLayer(name)
            let doc = try await Self.smallJSONBody(request)
            return JSONResponse.make(try await commands.rollback(name, timeout: try Self.swapTimeout(doc), by: who))
        } catch {
            return Problem.response(error)
        }
    }

    /// The body of a swap or rollback: empty, or a JSON object of at most 64 KiB. Anything else is an
    /// error rather than silently read as `{}`.
    static func smallJSONBody(_ request: Request) async throws(RunnerError) -> JSONValue {
        var request = request
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.collectBody(upTo: 64 * 1024))
        } catch {
            throw RunnerError(.resourceExhausted, "a swap request body is at most 64 KiB")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard let doc = try? JSONParser.parse(bytes), case .object = doc else {
            throw RunnerError(.invalidInput, "the body must be a JSON object", pointer: "")
        }
        return doc
    }

    static func swapTimeout(_ doc: JSONValue) throws(RunnerError) -> Duration {
        guard let t = doc["timeout"] else { return .seconds(30) }
        guard let s = t.doubleValue, s > 0, s <= maxSwapTimeout else {
            throw RunnerError(.invalidInput, "timeout must be a number of seconds from 0 to 3600", pointer: "/timeout")
        }
        return .milliseconds(Int64(s * 1000))
    }

    func restart(_ name: String) -> Response {
        do { return JSONResponse.make(try commands.restart(name)) } catch { return Problem.response(error) }
    }
}
