#if canImport(Glibc)
import Glibc
#endif

/// An OS thread for a loop that blocks in a syscall (the cooperative pool must never block): the kernel's
/// channel readers, flushers, stderr pumps, spawner and timer; the store's writer; a plugin's frame reader,
/// compute-script's zygote owners, notify-mq's blocking network calls. One wrapper for all of them.
///
/// Threads are unnamed: Glibc hides `pthread_setname_np` without _GNU_SOURCE.
public final class OSThread: Sendable {
    private let id: pthread_t

    private init(_ id: pthread_t) { self.id = id }

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Why no thread could be made: `pthread_create`'s error number (EAGAIN at the pids limit).
    public struct StartError: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { String(cString: strerror(code)) }
    }

    /// Starts `body` on a new detached thread; false when no thread could be made (the pids limit), in
    /// which case `body` has not run and the caller decides what to do.
    public static func startDetached(_ body: @escaping () -> Void) -> Bool {
        guard let id = try? create(body) else { return false }
        pthread_detach(id)
        return true
    }

    /// Starts `body` on a new thread that `join` waits for.
    public static func startJoinable(_ body: @escaping () -> Void) throws(StartError) -> OSThread {
        OSThread(try create(body))
    }

    /// Waits for the thread to end; call it once.
    public func join() { pthread_join(id, nil) }

    private static func create(_ body: @escaping () -> Void) throws(StartError) -> pthread_t {
        let box = Unmanaged.passRetained(Box(body))
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw StartError(code: rc)
        }
        return tid
    }
}
