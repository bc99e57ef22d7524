import Logging
import Synchronization
import JALMCapsule
import JALMCore
import JALMDocument
import JALMPlatform
import JALMStore
import JALMSupervisor
import JALMWire

/// Runs executions: validates and journals a capsule, then runs its steps in order on the layers,
/// with templating, timeouts and retries. Many executions run at once, each a task.
public final class Engine: Sendable {
    let store: Store
    let catalog: Catalog
    let layers: [String: LayerSupervisor]
    let settings: EngineSettings
    let logger: Logger
    /// Where `{{ secrets.NAME }}` is resolved, at each step's dispatch (so a rotated secret applies at once).
    let secrets: SecretStore

    struct Running {
        var task: Task<Void, Never>?
        var waiters: [UInt64: (CheckedContinuation<Void, Never>, Timers.Token?)] = [:]
    }
    struct State: ~Copyable {
        var running: [String: Running] = [:]
        var accepting = true
        var nextWaiter: UInt64 = 0
        /// False until `recover()` has resumed the journal's unfinished executions; submissions wait for it,
        /// so that recovery never mistakes a new execution for one left over from before a crash.
        var recovered = false
        /// Set when a shutdown's drain timeout passed: running executions stop without a final state.
        var abandoning = false
        var recoveryWaiters: [CheckedContinuation<Void, Never>] = []
    }
    let state = Mutex(State())
    let outlines = StepOutlineCache()

    public init(store: Store, catalog: Catalog, layers: [String: LayerSupervisor], settings: EngineSettings,
                logger: Logger, secrets: SecretStore = SecretStore(directories: [])) {
        self.secrets = secrets
        self.store = store
        self.catalog = catalog
        self.layers = layers
        self.settings = settings
        self.logger = logger
    }

    /// The ops a capsule may name, as "layer.op": what the running processes announced, and for a layer
    /// with no process up (restarting, quarantined) what the catalog routes to it, so that its steps are
    /// accepted and then fail with `layer_unavailable` rather than being refused as unknown.
    var announcedOps: Set<String> {
        var ops = Set<String>()
        for (name, supervisor) in layers {
            let announced = supervisor.announcedOps
            let names = announced.isEmpty ? Set(catalog.cards(inLayer: name).map(\.op)) : announced
            for op in names { ops.insert("\(name).\(op)") }
        }
        return ops
    }

    /// Parses, validates and journals a capsule, then starts it. Returns once the execution is durable.
    public func submit(body: [UInt8], contentType: String?) async throws(RunnerError) -> String {
        await waitForRecovery()
        guard state.withLock({ $0.accepting }) else {
            throw RunnerError(.layerUnavailable, "jalmd is shutting down and accepts no new executions")
        }
        let document = try Document.parse(body, contentType: contentType)
        let capsule = try CapsuleParser.parse(document)
        try CapsuleValidator(catalog: catalog, announcedOps: announcedOps).validate(capsule)
        try checkSecretsExist(capsule)
        let id = ExecutionID.make()
        let record = ExecutionRecord(
            id: id, intent: capsule.intent, state: ExecutionState.pending.rawValue,
            capsule: String(decoding: body, as: UTF8.self), createdAt: epochMilliseconds(), startedAt: nil,
            finishedAt: nil, error: nil, priority: 0)
        do {
            try await store.commit([.insertExecution(record)])
        } catch {
            throw RunnerError(.internal, "cannot journal the execution: \(error)")
        }
        outlines.remember(id, capsule.steps)
        start(id: id, capsule: capsule, from: 0, outputs: [:], attempts: [:])
        return id
    }

    /// A capsule naming a secret that is not set is refused before it runs, pointing at the name.
    func checkSecretsExist(_ capsule: Capsule) throws(RunnerError) {
        do { _ = try loadSecrets(capsule.secretNames) } catch {
            throw RunnerError(.invalidInput, error.message, pointer: error.pointer)
        }
    }

    /// The values of the secrets a capsule declares, read now; a failure points at the name (`/secrets/N`).
    func loadSecrets(_ names: [String]) throws(RunnerError) -> [String: String] {
        var values: [String: String] = [:]
        for (i, name) in names.enumerated() {
            do { values[name] = try secrets.value(of: name) } catch {
                var error = error
                error.pointer = "/secrets/\(i)"
                throw error
            }
        }
        return values
    }

    func waitForRecovery() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if !s.recovered { s.recoveryWaiters.append(c) }
                return s.recovered
            }
            if ready { c.resume() }
        }
    }

    func markRecovered() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.recovered = true
            defer { s.recoveryWaiters = [] }
            return s.recoveryWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Starts the task that runs `capsule` from step `index`.
    func start(id: String, capsule: Capsule, from index: Int, outputs: [String: JSONValue], attempts: [Int: Int]) {
        state.withLock { s in
            if s.running[id] == nil { s.running[id] = Running() }
            let task = Task {
                await self.run(id: id, capsule: capsule, from: index, outputs: outputs, attempts: attempts)
            }
            s.running[id]?.task = task
        }
    }

    /// Waits until the execution ends or `timeout` passes; true if it ended.
    public func wait(id: String, timeout: Duration) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let waiter = state.withLock { s -> UInt64? in
                guard s.running[id] != nil else { return nil }
                s.nextWaiter += 1
                s.running[id]!.waiters[s.nextWaiter] = (c, nil)
                return s.nextWaiter
            }
            guard let waiter else { c.resume(); return }
            let token = Timers.shared.schedule(after: timeout) { [self] in
                state.withLock { $0.running[id]?.waiters.removeValue(forKey: waiter) }?.0.resume()
            }
            state.withLock { s in
                if s.running[id]?.waiters[waiter] != nil { s.running[id]!.waiters[waiter]!.1 = token }
            }
        }
        return state.withLock { $0.running[id] == nil }
    }

    /// Asks a running execution to stop; its step in flight gets `cancel`.
    public func cancel(id: String) throws(RunnerError) {
        let task = state.withLock { $0.running[id]?.task }
        guard let task else {
            guard let record = try? store.execution(id: id) else {
                throw RunnerError(.notFound, "no execution \(id)")
            }
            throw RunnerError(.conflict, "execution \(id) already ended (\(record.state))")
        }
        task.cancel()
    }

    /// Stops accepting, then waits (bounded) for running executions; the rest resume at next start.
    public func drain() async {
        state.withLock { $0.accepting = false }
        let deadline = ContinuousClock.now + settings.drainTimeout
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.running.isEmpty }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = state.withLock { s -> Int in
            s.abandoning = !s.running.isEmpty
            return s.running.count
        }
        if left > 0 {
            logger.warning("executions still running at shutdown; they resume at next start",
                           metadata: ["engine.running": "\(left)"])
        }
        try? await store.flush()
    }

    public var runningCount: Int { state.withLock { $0.running.count } }

    var isAbandoning: Bool { state.withLock { $0.abandoning } }

    func finished(id: String) {
        let waiters = state.withLock { $0.running.removeValue(forKey: id)?.waiters.values }
        for (c, token) in waiters ?? [:].values {
            if let token { Timers.shared.cancel(token) }
            c.resume()
        }
    }
}

