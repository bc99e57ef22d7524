import JALMCapsule
import JALMCore
import JALMStore
import JALMWire
import Logging
import Synchronization

/// Limits of the runner; every value is named in the config.
public struct RunnerSettings: Sendable {
    /// How long a shutdown waits for running executions before leaving them to resume at next start.
    public var drainTimeout: Duration = .seconds(30)
    /// How long an `Idempotency-Key` answers with the execution it first created.
    public var idempotencyRetention: Duration = .seconds(24 * 3600)
    /// Bounds of a capsule's includes (depth, fragment size, expanded size).
    public var includeLimits = IncludeLimits()
    public init() {}
}

/// Runs executions: the thin runtime around the machines. It turns API calls, replies, timers and journal
/// completions into machine inputs, and carries out the machines' commands through its ports. It decides
/// nothing about an execution itself.
public final class Runner: Sendable {
    let journal: any Journal
    let layers: any LayerDispatch
    let catalog: Catalog
    let secrets: any SecretSource
    /// Where `include:` reads fragments: `<data>/capsules/` in jalmd.
    let fragments: any FragmentSource
    let timers: any TimerPort
    let settings: RunnerSettings
    let logger: Logger
    /// Milliseconds since the Unix epoch.
    let now: @Sendable () -> Int64
    /// A random number in 0..<1 (retry jitter).
    let random: @Sendable () -> Double

    struct Table: ~Copyable {
        var live: [String: LiveExecution] = [:]
        /// Idempotency keys of the executions in `live`: the journal answers for the others.
        var keys: [String: LiveExecution] = [:]
        /// Keys a submission is being decided for, with the submissions waiting their turn (see `keyTurn`).
        var keyTurns: [String: [CheckedContinuation<Void, Never>]] = [:]
        var accepting = true
        /// False until `recover()` has resumed the journal's unfinished executions; submissions wait for it,
        /// so that recovery never mistakes a new execution for one left over from before a crash.
        var recovered = false
        var recoveryWaiters: [CheckedContinuation<Void, Never>] = []
        var nextWaiter: UInt64 = 0
    }
    let table = Mutex(Table())
    let plans = PlanCache()
    /// Set when a shutdown's drain timeout passed: running executions stop where they are, without a
    /// final state, to resume at next start.
    let abandoning = Atomic<Bool>(false)

    public init(journal: any Journal, layers: any LayerDispatch, catalog: Catalog, secrets: any SecretSource,
                timers: any TimerPort, settings: RunnerSettings = RunnerSettings(), logger: Logger,
                now: @escaping @Sendable () -> Int64, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                fragments: any FragmentSource = NoFragments()) {
        self.journal = journal
        self.fragments = fragments
        self.layers = layers
        self.catalog = catalog
        self.secrets = secrets
        self.timers = timers
        self.settings = settings
        self.logger = logger
        self.now = now
        self.random = random
    }

    /// How many executions are running in memory.
    public var runningCount: Int { table.withLock { $0.live.count } }

    func live(_ id: String) -> LiveExecution? { table.withLock { $0.live[id] } }

    // MARK: delivering inputs

    /// Gives `input` to the execution's machine and carries out what it says (see `LiveExecution`).
    func deliver(_ input: MachineInput, to x: LiveExecution) {
        if abandoning.load(ordering: .relaxed) { return }
        let first = x.state.withLock { s -> Bool in
            if s.ended != nil { return false }
            s.mailbox.append(input)
            if s.processing { return false }
            s.processing = true
            return true
        }
        guard first else { return }
        while true {
            let commands = x.state.withLock { s -> [MachineCommand]? in
                guard !s.mailbox.isEmpty, s.ended == nil else {
                    s.processing = false
                    return nil
                }
                let input = s.mailbox.removeFirst()
                // A reply ends its call: forget its handle (a foreach makes one per iteration).
                if case .stepReturned(let step, _, _, _, _) = input { s.calls[step] = nil }
                return s.machine.handle(input)
            }
            guard let commands else { return }
            perform(commands, for: x)
        }
    }

    // MARK: waiting

    /// Waits until the execution ends or `timeout` passes: how it ended, or nil if it is still running
    /// (or unknown).
    public func waitForEnd(id: String, timeout: Duration) async -> ExecutionSnapshot? {
        guard let x = live(id) else {
            // Not in memory: it ended already (its end is on disk), or it is not ours.
            guard let stored = try? journal.execution(id: id),
                  ExecutionState(rawValue: stored.summary.state)?.isFinal == true else { return nil }
            return snapshot(of: stored)
        }
        let token = table.withLock { t -> UInt64 in
            t.nextWaiter += 1
            return t.nextWaiter
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ended = x.state.withLock { s -> Bool in
                if s.ended != nil { return true }
                s.endWaiters[token] = LiveExecution.EndWaiter(continuation: c)
                return false
            }
            if ended { return c.resume() }
            // The timer holds the execution until it fires or is cancelled: the end cancels it.
            let cancel = timers.schedule(after: timeout) {
                x.state.withLock { $0.endWaiters.removeValue(forKey: token) }?.continuation.resume()
            }
            let waiting = x.state.withLock { s -> Bool in
                guard s.endWaiters[token] != nil else { return false }
                s.endWaiters[token]!.cancelTimer = cancel
                return true
            }
            if !waiting { cancel() }
        }
        return x.state.withLock { s in s.ended.map { ExecutionSnapshot(x.header, machine: $0) } }
    }

    /// Returns when everything journaled so far is on disk (before telling a client an id it may rely on).
    public func flush() async throws(RunnerError) { try await journal.flush() }

    // MARK: recovery and shutdown

    func waitForRecovery() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = table.withLock { t -> Bool in
                if !t.recovered { t.recoveryWaiters.append(c) }
                return t.recovered
            }
            if ready { c.resume() }
        }
    }

    func markRecovered() {
        let waiters = table.withLock { t -> [CheckedContinuation<Void, Never>] in
            t.recovered = true
            defer { t.recoveryWaiters = [] }
            return t.recoveryWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Stops accepting, then waits (bounded) for running executions; the rest resume at next start.
    public func drain() async {
        table.withLock { $0.accepting = false }
        let deadline = ContinuousClock.now + settings.drainTimeout
        while ContinuousClock.now < deadline, runningCount > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = runningCount
        if left > 0 {
            abandoning.store(true, ordering: .relaxed)
            logger.warning("executions still running at shutdown; they resume at next start",
                           metadata: ["engine.running": "\(left)"])
        }
        try? await journal.flush()
    }
}
