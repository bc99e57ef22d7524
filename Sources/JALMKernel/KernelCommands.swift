import JALMCapsule
import JALMCore
import JALMEngine
import JALMWire

/// The one door into the kernel for the API: every request the HTTP routes serve is one call here, so the
/// API never reaches into the engine, the supervisors or the store, whose shapes are free to change behind
/// it. It holds no state of its own.
public struct KernelCommands: Sendable {
    let kernel: Kernel

    public init(_ kernel: Kernel) { self.kernel = kernel }

    // MARK: configuration and lifecycle the API needs

    /// What the listeners and the handlers take from the configuration.
    public struct APISettings: Sendable {
        /// The control socket's path, bound when systemd passed no socket.
        public var socketPath: String
        /// `HOST:PORT` for HTTP, or nil for no TCP listener.
        public var listen: String?
        /// The bearer token the TCP listener requires, when set.
        public var token: String?
        /// Whether `listen` names a loopback address only (beyond it a token is mandatory).
        public var listensOnLoopbackOnly: Bool
        /// Largest request body the API reads (capsules), in bytes.
        public var maxBodyBytes: Int
        /// An API connection that sends nothing for this long is closed.
        public var httpIdleTimeout: Duration

        /// The host of `listen`.
        public var listenHost: String? { listen.map(KernelConfig.host(of:)) }
        /// The port of `listen`; nil when `listen` is not `HOST:PORT`.
        public var listenPort: Int? { listen.flatMap(KernelConfig.port(of:)) }
    }

    /// The configuration's API settings, as the kernel was started with them.
    public var settings: APISettings {
        let c = kernel.config
        return APISettings(
            socketPath: c.resolvedSocketPath, listen: c.listen, token: c.token,
            listensOnLoopbackOnly: c.listensOnLoopbackOnly, maxBodyBytes: c.maxBodyBytes,
            httpIdleTimeout: c.httpIdleTimeout)
    }

    /// The number of listeners that must be up before systemd hears `READY=1` (nothing outside systemd).
    public func expectListeners(_ n: Int) { kernel.systemd?.expectListeners(n) }

    /// One listener's socket is bound and listening.
    public func listenerUp() { kernel.systemd?.listenerUp() }

    // MARK: status

    /// `GET /`: who answers, and for how long it has.
    public struct About: Sendable {
        public var name: String
        public var version: String
        public var uptime: Duration
    }

    public var about: About { About(name: "jalmd", version: jalmVersion, uptime: .now - kernel.startedAt) }

    /// `GET /health`: ready when every layer is.
    public struct Health: Sendable {
        public var ok: Bool
        /// One line per layer that is not ready, and why.
        public var reasons: [String]
        /// `sandboxWarnings`.
        public var warnings: [String]
        /// Each layer's state, by name, as `GET /layers` shows it.
        public var layerStates: [String: JSONValue]
    }

    public func health() -> Health {
        let h = kernel.health
        var states: [String: JSONValue] = [:]
        for (name, l) in kernel.layers { states[name] = l.snapshot()["state"] ?? .null }
        return Health(ok: h.ok, reasons: h.reasons, warnings: kernel.sandboxWarnings, layerStates: states)
    }

    /// Layers that run with less confinement than `enforce` gives: said loudly by /health and /layers.
    public var sandboxWarnings: [String] { kernel.sandboxWarnings }

    /// `GET /schema/capsule.json`: the capsule's JSON Schema, from the parser's tables.
    public var capsuleSchema: JSONValue { CapsuleSchema.json }

    /// `GET /catalog`: the catalog the kernel validates against.
    public var catalogJSON: JSONValue { kernel.catalog.json }

    // MARK: executions

    /// Parses, validates and starts a capsule (see `Runner.submit`): with `acknowledge`, returns once the
    /// execution is on disk; else at once, and `flush()` must come before its id is told to anyone.
    public func submit(body: [UInt8], contentType: String?, idempotencyKey: String?, acknowledge: Bool,
                       dryRun: Bool = false) async throws(RunnerError) -> Submission
    {
        try await kernel.runner.submit(body: body, contentType: contentType, idempotencyKey: idempotencyKey,
                                       acknowledge: acknowledge, dryRun: dryRun)
    }

    /// `POST /lint`: every check `submit` makes, and nothing run; what the capsule would run.
    public func lint(body: [UInt8], contentType: String?) throws(RunnerError) -> JSONValue {
        let plan = try kernel.runner.check(body: body, contentType: contentType)
        let steps: [JSONValue] = plan.steps.map { s in
            ["id": .string(s.address), "layer": s.viewLayer.map(JSONValue.string) ?? .null, "op": .string(s.viewOp),
             "side_effect": .string(s.sideEffect.rawValue)]
        }
        return ["ok": true, "intent": .string(plan.capsule.intent), "steps": .array(steps)]
    }

    /// Waits until the execution ends or `timeout` passes: its final view, or nil if it still runs.
    public func waitForEnd(id: String, timeout: Duration) async -> ExecutionSnapshot? {
        await kernel.runner.waitForEnd(id: id, timeout: timeout)
    }

    /// Returns when everything journaled so far is on disk.
    public func flush() async throws(RunnerError) { try await kernel.runner.flush() }

    /// An execution as `GET /exec/{id}` shows it.
    public func view(id: String) throws(RunnerError) -> ExecutionSnapshot {
        try kernel.runner.view(id: id)
    }

    /// `GET /exec`: newest first, keyset-paginated.
    public func list(state: String?, limit: Int, cursor: String?) throws(RunnerError) -> JSONValue {
        try kernel.runner.list(state: state, limit: limit, cursor: cursor)
    }

    /// Asks a running execution to stop and returns its view once it ended (or after 10 s); `conflict` when
    /// it already ended, `not_found` when there is none.
    public func cancel(id: String) async throws(RunnerError) -> ExecutionSnapshot {
        try await kernel.runner.cancel(id: id)
    }
}
