#if canImport(Glibc)
import Glibc
#endif

/// A detached OS thread for a loop that blocks in a syscall (pool threads must never block): the
/// plugin's frame reader, compute-script's zygote owners, notify-mq's blocking network calls.
public enum DetachedThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new detached thread; false when no thread could be made (the pids limit),
    /// in which case `body` has not run and the caller decides what to do.
    @discardableResult
    public static func start(_ body: @escaping () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            return false
        }
        pthread_detach(tid)
        return true
    }
}
