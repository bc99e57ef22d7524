#if canImport(Glibc)
import Glibc
#endif
import CCurl
import JALMPlatform
import JALMWire
import Synchronization

/// The process's one libcurl multi handle, driven by its own OS thread (`curl_multi_poll`), so that any
/// number of transfers run at once without blocking Swift's cooperative pool.
///
/// Other threads never touch the multi handle: they queue additions and cancellations under a lock and
/// wake the thread (`curl_multi_wakeup`, the one multi call that is thread-safe).
final class CurlMulti: @unchecked Sendable {
    static let shared = CurlMulti()

    private let multi: UnsafeMutableRawPointer
    private struct Queue {
        var additions: [Transfer] = []
        var cancellations: [Transfer] = []
    }
    private let queue = Mutex(Queue())
    /// Transfers curl is running, by easy handle (multi thread only).
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()!
        // Connections are reused per host; a bound keeps descriptors under the layer's nofile limit.
        _ = jalm_curlm_set_long(multi, CURLMOPT_MAXCONNECTS, 64)
        // The thread keeps the shared instance for the life of the process.
        let started = OSThread.startDetached { [self] in self.run() }
        precondition(started, "cannot start the curl multi thread")
    }

    /// Runs one hop; resumes when curl finishes it, fails it, or the task is cancelled.
    func run(_ transfer: Transfer) async -> Result<HopResult, CallFailure> {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.continuation = continuation
                queue.withLock { $0.additions.append(transfer) }
                curl_multi_wakeup(multi)
            }
        } onCancel: {
            queue.withLock {
                transfer.cancelRequested = true
                $0.cancellations.append(transfer)
            }
            curl_multi_wakeup(multi)
        }
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let (additions, cancellations) = queue.withLock { q in
                defer { q = Queue() }
                return (q.additions, q.cancellations)
            }
            for t in additions {
                if queue.withLock({ _ in t.cancelRequested }) {
                    finish(t, .failure(CallFailure(.cancelled, "the transfer was cancelled before it started")))
                } else if curl_multi_add_handle(multi, t.easy) == CURLM_OK {
                    active[t.easy] = t
                } else {
                    finish(t, .failure(CallFailure(.internal, "curl_multi_add_handle failed")))
                }
            }
            for t in cancellations where active.removeValue(forKey: t.easy) != nil {
                curl_multi_remove_handle(multi, t.easy)
                finish(t, .failure(CallFailure(.cancelled, "the transfer was cancelled")))
            }
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle,
                      let t = active.removeValue(forKey: easy) else { continue }
                let code = msg.pointee.data.result
                let text = String(cString: curl_easy_strerror(code))
                let result = t.result(code, errorText: text)
                curl_multi_remove_handle(multi, easy)
                finish(t, .success(result))
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func finish(_ t: Transfer, _ result: Result<HopResult, CallFailure>) {
        let c = t.continuation
        t.continuation = nil
        c?.resume(returning: result)
    }
}
