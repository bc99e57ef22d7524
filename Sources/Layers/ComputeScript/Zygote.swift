#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Dispatch
import Synchronization
import JALMLayerKit
import JALMPlatform
import JALMWire

/// One python3 zygote process (plugins/compute-script/zygote.py) and the OS thread that owns it: the
/// thread spawns it (so PR_SET_PDEATHSIG is tied to a thread that never exits), sends it one run at a
/// time over a socketpair as a JSON line and reads the JSON line that answers. A zygote that dies is
/// started again by the same thread; the run it had fails with `internal`.
final class Zygote: @unchecked Sendable {
    struct Job {
        let id: UInt64
        let line: [UInt8]
        let done: @Sendable (JSONValue) -> Void
    }

    let index: Int
    private let argv: [String]
    private let jobs = Mutex<[Job]>([])
    private let wake = DispatchSemaphore(value: 0)
    /// The socket to the zygote; writes (a run, a cancel) go through the lock so lines never interleave.
    private let socket = Mutex<Int32>(-1)
    private var buffer: [UInt8] = []

    init(index: Int, argv: [String]) {
        self.index = index
        self.argv = argv
    }

    private let started = Atomic<Bool>(false)

    /// Starts the owning thread, which starts the process and serves jobs forever; only the first call does.
    /// The pool calls it at the first run, so a layer that never runs a script holds no interpreter.
    func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let ok = OSThread.startDetached { self.serve() }
        precondition(ok, "cannot start the zygote's owning thread")
    }

    /// Set while the zygote cannot be started: runs then fail at once instead of waiting for it.
    private let failing = Atomic<Bool>(false)

    /// Runs one request line; `done` gets the zygote's answer (or a synthetic `error`).
    func submit(_ job: Job) {
        start()
        if failing.load(ordering: .relaxed) {
            job.done(Self.cannotStart)
            return
        }
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    static let cannotStart = error("the script zygote cannot start (see the plugin's stderr); the run did not start")

    /// Asks the zygote to stop run `id` (it answers that run with limit "cancelled").
    func cancel(_ id: UInt64) {
        send(Array(JSONWriter.string(["t": "cancel", "id": .int(Int64(id))]).utf8) + [0x0A])
    }

    private func serve() -> Never {
        var backoff: UInt32 = 0
        while true {
            guard spawnAndGreet() else {
                // Nothing can run until it starts: fail what is waiting, and what comes, rather than hang.
                failing.store(true, ordering: .relaxed)
                for job in jobs.withLock({ j -> [Job] in defer { j = [] }; return j }) { job.done(Self.cannotStart) }
                backoff = min(max(backoff * 2, 50_000), 2_000_000)
                usleep(backoff)
                continue
            }
            backoff = 0
            failing.store(false, ordering: .relaxed)
            serveJobs()
        }
    }

    /// Serves jobs until the zygote's socket fails; then fails the job in hand and returns.
    private func serveJobs() {
        while true {
            wake.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            guard send(job.line) else {
                job.done(Self.error("the script zygote is gone; it is being restarted"))
                dropProcess()
                return
            }
            while true {
                guard let reply = readLine() else {
                    job.done(Self.error("the script zygote died during the run; it is being restarted"))
                    dropProcess()
                    return
                }
                if reply["id"]?.intValue == Int64(job.id), reply["t"]?.stringValue != "ready" {
                    job.done(reply)
                    break
                }
            }
        }
    }

    static func error(_ message: String) -> JSONValue { ["t": "error", "message": .string(message)] }

    private var pid: pid_t = 0

    private func spawnAndGreet() -> Bool {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            printToStandardError("compute-script: socketpair for a zygote failed: errno \(errno)")
            return false
        }
        let env = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
        let child = withCStrings(argv) { a in withCStrings(env) { e in jalm_spawn(argv[0], a, e, fds[1], 2, nil) } }
        close(fds[1])
        guard child > 0 else {
            close(fds[0])
            printToStandardError("compute-script: cannot start \(argv[0]): errno \(-child)")
            return false
        }
        pid = child
        socket.withLock { $0 = fds[0] }
        buffer = []
        guard let hello = readLine(), hello["t"]?.stringValue == "ready" else {
            printToStandardError("compute-script: zygote \(index) (pid \(child)) did not start; see its stderr above")
            dropProcess()
            return false
        }
        return true
    }

    private func dropProcess() {
        let fd = socket.withLock { s -> Int32 in let f = s; s = -1; return f }
        if fd >= 0 { close(fd) }
        if pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            pid = 0
        }
    }

    @discardableResult
    private func send(_ bytes: [UInt8]) -> Bool {
        socket.withLock { fd -> Bool in
            guard fd >= 0 else { return false }
            return bytes.withUnsafeBytes { Descriptor.writeAll(fd, $0) == nil }
        }
    }

    /// The next JSON line from the zygote, or nil at EOF or on an unreadable line.
    private func readLine() -> JSONValue? {
        let fd = socket.withLock { $0 }
        guard fd >= 0 else { return nil }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var scanned = 0
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return try? JSONParser.parse(line)
            }
            scanned = buffer.count
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}

/// `body` with `strings` as a NULL-terminated `char *[]`.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
}
