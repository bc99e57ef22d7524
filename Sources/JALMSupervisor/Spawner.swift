#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMPlatform

/// Starts plugin processes from one long-lived thread: `PR_SET_PDEATHSIG` fires when the spawning
/// *thread* exits (DESIGN.md, facts), so spawning from a pool thread would kill plugins at random.
public final class Spawner: @unchecked Sendable {
    public struct Request: Sendable {
        public var path: String
        public var arguments: [String]
        public var environment: [String: String]
        public var childFD: Int32
        public var stderrFD: Int32
        public var directory: String?
    }

    public static let shared = Spawner()

    private let lock = ConditionLock()
    private var queue: [(Request, CheckedContinuation<Int32, Never>)] = []

    private init() {
        let started = OSThread.startDetached { [self] in self.loop() }
        precondition(started, "cannot start the spawner thread")
    }

    /// The pid of the new process, or -errno.
    public func spawn(_ request: Request) async -> Int32 {
        await withCheckedContinuation { c in
            lock.withLock {
                queue.append((request, c))
                lock.signal()
            }
        }
    }

    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty { lock.wait() }
            let work = queue
            queue.removeAll()
            lock.unlock()
            for (request, c) in work { c.resume(returning: Self.spawnNow(request)) }
        }
    }

    private static func spawnNow(_ r: Request) -> Int32 {
        let argv = ([r.path] + r.arguments).map { strdup($0) } + [nil]
        let envp = r.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        return argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                jalm_spawn(r.path, a.baseAddress, e.baseAddress, r.childFD, r.stderrFD, r.directory)
            }
        }
    }
}
