/// Supervision of one layer process slot as a pure state machine: no I/O, no clock reads, no logging.
/// The runtime feeds it events with instants and carries out the actions it returns; tests drive it
/// with injected instants.
public struct SupervisorStateMachine: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public enum State: Sendable, Equatable {
        case stopped
        case starting(since: Instant)
        case ready(since: Instant)
        case backoff(until: Instant)
        case quarantined(reason: String)
        case draining
    }

    public enum Action: Sendable, Equatable {
        case none
        case spawn
        case respawn(after: Duration)
        case quarantine(reason: String)
    }

    public let policy: RestartPolicy
    public private(set) var state: State = .stopped
    /// Instants of recent restarts, oldest first, pruned to the policy window.
    public private(set) var restarts: [Instant] = []
    public private(set) var totalRestarts = 0
    public private(set) var consecutiveFailures = 0
    public private(set) var lastError: String?

    public init(policy: RestartPolicy) { self.policy = policy }

    /// Start (or restart by request): clears a quarantine and the restart history.
    public mutating func start() -> Action {
        switch state {
        case .stopped, .quarantined, .backoff:
            restarts.removeAll()
            consecutiveFailures = 0
            return .spawn
        case .starting, .ready, .draining:
            return .none
        }
    }

    public mutating func spawned(at now: Instant) {
        state = .starting(since: now)
    }

    /// The process said a valid hello.
    public mutating func greeted(at now: Instant) {
        guard case .starting = state else { return }
        state = .ready(since: now)
    }

    /// The process is gone (exit, kill, protocol error, missed pings, no hello, failed spawn).
    public mutating func failed(at now: Instant, reason: String) -> Action {
        lastError = reason
        switch state {
        case .stopped, .draining, .quarantined:
            state = state == .draining ? .stopped : state
            return .none
        case .ready(let since) where now - since >= policy.stableAfter:
            consecutiveFailures = 1
        case .ready, .starting, .backoff:
            consecutiveFailures += 1
        }
        restarts.append(now)
        totalRestarts += 1
        let window = policy.window
        restarts.removeAll { now - $0 > window }
        if restarts.count > policy.maxRestarts {
            let why = "\(restarts.count) restarts within \(policy.window); last: \(reason)"
            state = .quarantined(reason: why)
            return .quarantine(reason: why)
        }
        let delay = policy.delay(consecutive: consecutiveFailures)
        state = .backoff(until: now + delay)
        return .respawn(after: delay)
    }

    /// The backoff timer fired.
    public mutating func backoffElapsed(at now: Instant) -> Action {
        guard case .backoff(let until) = state, now >= until else { return .none }
        return .spawn
    }

    /// Drain requested: the process finishes its calls and exits; no restart follows.
    public mutating func drain() {
        switch state {
        case .ready, .starting: state = .draining
        default: state = .stopped
        }
    }

    public var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    public var quarantineReason: String? {
        if case .quarantined(let r) = state { return r }
        return nil
    }
}
