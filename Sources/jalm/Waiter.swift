import Glibc
import JALMWire

/// Submits a capsule and waits for its execution to end: first inside `POST /exec?wait=`, then, if the
/// daemon's wait ran out before the execution did, by polling `GET /exec/{id}` with growing pauses.
struct Waiter {
    var global: GlobalOptions
    /// Seconds in all; nil waits as long as the execution runs (each request is still bounded).
    var timeout: Double?
    /// How long to keep re-sending the submission after a broken connection.
    var retryFor: Double = 60

    /// How long one `?wait=` asks the daemon to hold the request when no --timeout bounds it.
    static let serverWaitChunk = 60.0

    func submit(body: [UInt8], contentType: String, key: String?, dryRun: Bool = false) throws(CLIFailure) -> ExecutionView {
        let start = Format.nowMs()
        let firstWait = timeout ?? Self.serverWaitChunk
        let api = global.api(extraTimeout: firstWait)
        let answer = try api.submit("/exec?wait=\(Self.waitParameter(firstWait))" + (dryRun ? "&dry_run=1" : ""), body: body,
                                    contentType: contentType, key: key, retryFor: retryFor).json
        let id = answer["id"]?.stringValue ?? answer["execution_id"]?.stringValue
        guard let id else { throw .transport("protocol_error: POST /exec answered without an execution id") }
        // A daemon that ignored `wait` answers 202 {execution_id, state}, which is not a view yet.
        var view = ExecutionView(json: answer["steps"] == nil ? try fetch(id) : answer)
        var pause = 0.2
        while !view.isFinished {
            let elapsed = Double(Format.nowMs() - start) / 1000
            let remaining = timeout.map { $0 - elapsed } ?? .infinity
            guard remaining > 0 else { break }
            Self.sleep(seconds: min(pause, remaining))
            pause = min(pause * 1.5, 2)
            view = ExecutionView(json: try fetch(id))
        }
        return view
    }

    /// The execution's view; asked again while jalmd restarts (a GET changes nothing).
    private func fetch(_ id: String) throws(CLIFailure) -> JSONValue {
        let start = Format.nowMs()
        while true {
            do { return try global.api().get("/exec/\(escape(id))") } catch {
                guard error.isTransient, Format.nowMs() - start < 60_000 else { throw error }
                Self.sleep(seconds: 0.5)
            }
        }
    }

    /// `?wait=` takes whole seconds; round up so that we never ask for less than we will wait.
    static func waitParameter(_ seconds: Double) -> String {
        String(Int(seconds.rounded(.up)))
    }

    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}
