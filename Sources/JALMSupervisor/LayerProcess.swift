#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Logging
import Synchronization
import JALMSandbox
import JALMWire

/// One running plugin process: its pid, its channel, what it announced, and how it ended.
final class LayerProcess: Sendable {
    let pid: Int32
    let channel: LayerChannel
    let startedAt: ContinuousClock.Instant
    let generation: Int
    /// The cgroup leaf it was started in, and the OOM kill count of that leaf before it started.
    let leaf: CgroupLeaf?
    let oomBaseline: Int
    let memoryLimitBytes: Int64?
    /// Where to read the kernel's record of a seccomp kill of this process (KernelLog.openCursor).
    let kernelLogCursor: Int32

    private struct State: ~Copyable {
        var hello: Hello?
        var exitStatus: Int32?
        /// What the confinement audit saw after hello (GET /layers).
        var confinement: JSONValue = .null
        var greetedAt: ContinuousClock.Instant?
        var lastPong: ContinuousClock.Instant
        var pingSeq: UInt64 = 0
    }
    private let state: Mutex<State>
    /// Calls in flight and calls served: atomics, read and changed on every call without a lock.
    private let inflightCount = Atomic<Int>(0)
    private let servedCount = Atomic<Int>(0)

    init(pid: Int32, channel: LayerChannel, generation: Int, leaf: CgroupLeaf? = nil, memoryLimitBytes: Int64? = nil,
         kernelLogCursor: Int32 = -1) {
        self.kernelLogCursor = kernelLogCursor
        self.memoryLimitBytes = memoryLimitBytes
        self.pid = pid
        self.channel = channel
        self.generation = generation
        self.leaf = leaf
        self.oomBaseline = leaf?.oomKills() ?? 0
        self.startedAt = .now
        self.state = Mutex(State(lastPong: .now))
    }

    deinit {
        if kernelLogCursor >= 0 { close(kernelLogCursor) }
    }

    var hello: Hello? { state.withLock { $0.hello } }
    var confinement: JSONValue {
        get { state.withLock { $0.confinement } }
        set { state.withLock { $0.confinement = newValue } }
    }
    var inflight: Int { inflightCount.load(ordering: .relaxed) }
    var served: Int { servedCount.load(ordering: .relaxed) }

    func greeted(_ h: Hello) {
        state.withLock { $0.hello = h; $0.greetedAt = .now; $0.lastPong = .now }
    }

    /// Takes a call slot if fewer than `limit` are in flight.
    func reserve(limit: Int) -> Bool {
        var current = inflightCount.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = inflightCount.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        inflightCount.subtract(1, ordering: .releasing)
        servedCount.add(1, ordering: .relaxed)
    }

    func ponged() { state.withLock { $0.lastPong = .now } }

    /// Sends a ping and says whether the previous ones went unanswered for longer than `timeout`.
    func ping(timeout: Duration) -> Bool {
        let (seq, silent) = state.withLock { s -> (UInt64, Bool) in
            s.pingSeq += 1
            return (s.pingSeq, ContinuousClock.now - s.lastPong > timeout)
        }
        if silent { return false }
        channel.send(.ping(seq: seq))
        return true
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// Collects the exit status (once; later calls return the same): waits a moment for a process that is
    /// exiting on its own, then kills it. Runs on the channel's reader thread after EOF, never on a pool thread.
    func reap() -> Int32 {
        if let s = state.withLock({ $0.exitStatus }) { return s }
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<40 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || r < 0 { reaped = true; break }
            usleep(5_000)
        }
        if !reaped {
            kill()
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        state.withLock { $0.exitStatus = status }
        return status
    }

    /// Why the process ended, as the code its calls in flight fail with and a sentence for people.
    func explainExit() -> (ErrorCode, String) {
        let status = reap()
        let signal = status & 0x7F
        if signal == SIGSYS {
            let syscall = KernelLog.seccompSyscall(pid: pid, cursor: kernelLogCursor).map { " (\($0))" } ?? ""
            return (.sandboxViolation, "killed by its seccomp filter: a syscall outside its policy\(syscall)")
        }
        if signal == SIGKILL, let leaf, leaf.oomKills() > oomBaseline {
            let limit = memoryLimitBytes.map { "\($0 >> 20) MiB" } ?? "its cgroup"
            return (.resourceExhausted, "killed by the OOM killer at its memory limit of \(limit) (limits.memory)")
        }
        return (.layerUnavailable, Self.describe(status))
    }

    static func describe(_ status: Int32) -> String {
        let sig = status & 0x7F
        if sig == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        let name = signalNames[Int(sig)] ?? "signal \(sig)"
        return "killed by \(name)"
    }

    private static let signalNames: [Int: String] = [
        6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM", 31: "SIGSYS", 7: "SIGBUS", 4: "SIGILL", 8: "SIGFPE",
    ]
}
