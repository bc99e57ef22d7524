import Hummingbird
import JALMCore
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
        let body: ByteBuffer
        let maxBodyBytes = commands.settings.maxBodyBytes
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            return Problem.response(RunnerError(
                .resourceExhausted, "request body exceeds max_body_bytes (\(maxBodyBytes) bytes)"))
        }
        do {
            let id = try await commands.submit(body: Array(buffer: body), contentType: request.headers[.contentType])
            guard let wait else { return JSONResponse.make(["execution_id": .string(id), "state": "pending"], status: .accepted) }
            let done = await commands.wait(id: id, timeout: .milliseconds(Int64(wait * 1000)))
            var view = try commands.view(id: id)
            if case .object(var o) = view { o["execution_id"] = .string(id); view = .object(o) }
            return JSONResponse.make(view, status: done ? .ok : .accepted)
        } catch {
            return Problem.response(error)
        }
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
        do { return JSONResponse.make(try commands.view(id: id)) } catch { return Problem.response(error) }
    }

    func cancel(_ id: String) async -> Response {
        do {
            try commands.cancel(id: id)
            _ = await commands.wait(id: id, timeout: .seconds(10))
            return JSONResponse.make(try commands.view(id: id))
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
