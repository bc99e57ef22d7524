#if canImport(Glibc)
import Glibc
#endif
import JALMCore

/// A joinable OS thread for the store's writer, which blocks in fsync and must stay off the cooperative pool.
enum WriterThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread (unnamed: Glibc hides `pthread_setname_np` without _GNU_SOURCE).
    static func start(_ body: @escaping @Sendable () -> Void) throws(RunnerError) -> pthread_t {
        let box = Unmanaged.passRetained(Body(body))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let body = Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw RunnerError(.internal, "cannot start the store writer thread: \(String(cString: strerror(rc)))")
        }
        return tid
    }

    /// Waits for the thread to end.
    static func join(_ tid: pthread_t) { pthread_join(tid, nil) }
}
