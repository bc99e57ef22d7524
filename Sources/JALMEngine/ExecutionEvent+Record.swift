import JALMCore
import JALMStore
import JALMWire

/// Events as journal records: a kind, the step's address and attempt in their own columns, the rest as a
/// compact JSON payload with short keys (`o` output, `ms` duration of the call, `p` pid, `v` plugin version,
/// `e` error, `r` retry due at, `s` step run state). The `step_runs` view of the journal spells them out.
extension JournalEntry {
    public func record(plan: Plan) -> EventRecord {
        var r = EventRecord(seq: seq, at: at, kind: event.kind)
        func step(_ i: StepRef, _ attempt: Int? = nil) {
            r.address = plan.address(of: i)
            r.attempt = attempt
        }
        switch event {
        case .submitted(let startsNow, let dryRun):
            var o: [String: JSONValue] = [:]
            if !startsNow { o["q"] = true }
            if dryRun { o["d"] = true }
            if !o.isEmpty { r.payload = .object(o) }
        case .started, .cancelRequested, .deadlinePassed:
            break
        case .stepSkipped(let i):
            step(i)
        case .blockStarted(let i, let choice, let items):
            step(i)
            var o: [String: JSONValue] = [:]
            if let choice { o["case"] = .int(Int64(choice)) }
            if let items { o["items"] = .array(items) }
            r.payload = .object(o)
        case .stepDispatched(let i, let attempt), .stepInterrupted(let i, let attempt):
            step(i, attempt)
        case .stepSucceeded(let i, let attempt, let dispatchedAt, let receipt, let output):
            step(i, attempt)
            var o = Self.receipt(receipt)
            o["o"] = output
            if at > dispatchedAt { o["ms"] = .int(at - dispatchedAt) }
            r.payload = .object(o)
        case .stepFailed(let i, let attempt, let state, let dispatchedAt, let receipt, let error, let retryAt,
                         let continues, let fallback):
            step(i, attempt)
            var o = Self.receipt(receipt)
            o["s"] = .string(state.rawValue)
            o["e"] = error.json
            // Written even when 0: its absence says the call never went out.
            if let dispatchedAt { o["ms"] = .int(max(0, at - dispatchedAt)) }
            if let retryAt { o["r"] = .int(retryAt) }
            if continues { o["c"] = true }
            if fallback { o["f"] = true }
            r.payload = .object(o)
        case .fallbackEnded(let i, let output, let error):
            step(i)
            var o: [String: JSONValue] = [:]
            if let output { o["o"] = output }
            if let error { o["e"] = error.json }
            r.payload = .object(o)
        case .compensating(let state, let error):
            r.payload = Self.endPayload(state, error)
        case .stepUnknown(let i, let attempt, let error):
            step(i, attempt)
            r.payload = ["e": error.json]
        case .finished(let state, let error):
            r.payload = Self.endPayload(state, error)
        }
        return r
    }

    /// Reads a record back; throws `internal` for a record this code cannot read (a newer jalmd wrote it,
    /// or it names a step the capsule does not have).
    public init(record r: EventRecord, plan: Plan) throws(RunnerError) {
        func bad(_ why: String) -> RunnerError {
            RunnerError(.internal, "journal event \(r.seq) (\(r.kind)) cannot be read: \(why)")
        }
        let p = r.payload
        func stepIndex() throws(RunnerError) -> StepRef {
            guard let a = r.address, let i = plan.ref(a) else { throw bad("no step \(r.address ?? "(none)")") }
            return i
        }
        func attempt() throws(RunnerError) -> Int {
            guard let n = r.attempt, n >= 1 else { throw bad("no attempt") }
            return n
        }
        func error() throws(RunnerError) -> RunnerError {
            guard let e = p?["e"], let error = RunnerError(json: e) else { throw bad("no error") }
            return error
        }
        if r.payloadText != nil && p == nil { throw bad("its payload is not JSON") }
        let receipt = Receipt(pid: p?["p"]?.intValue.map { Int($0) }, version: p?["v"]?.stringValue)
        let event: ExecutionEvent
        switch r.kind {
        case "submitted": event = .submitted(startsNow: p?["q"]?.boolValue != true, dryRun: p?["d"]?.boolValue == true)
        case "started": event = .started
        case "cancel.requested": event = .cancelRequested
        case "deadline.passed": event = .deadlinePassed
        case "step.skipped": event = .stepSkipped(step: try stepIndex())
        case "block.started":
            event = .blockStarted(step: try stepIndex(), choice: p?["case"]?.intValue.map { Int($0) },
                                  items: p?["items"]?.arrayValue)
        case "step.dispatched": event = .stepDispatched(step: try stepIndex(), attempt: try attempt())
        case "step.interrupted": event = .stepInterrupted(step: try stepIndex(), attempt: try attempt())
        case "step.ok":
            event = .stepSucceeded(step: try stepIndex(), attempt: try attempt(),
                                   dispatchedAt: r.at - (p?["ms"]?.intValue ?? 0), receipt: receipt,
                                   output: p?["o"] ?? .null)
        case "step.failed":
            guard let s = p?["s"]?.stringValue, let state = StepRunState(rawValue: s) else { throw bad("no state") }
            event = .stepFailed(step: try stepIndex(), attempt: try attempt(), state: state,
                                dispatchedAt: p?["ms"]?.intValue.map { r.at - $0 }, receipt: receipt,
                                error: try error(), retryAt: p?["r"]?.intValue,
                                continues: p?["c"]?.boolValue == true, fallback: p?["f"]?.boolValue == true)
        case "fallback.ended":
            if p?["e"] != nil {
                event = .fallbackEnded(step: try stepIndex(), output: nil, error: try error())
            } else {
                event = .fallbackEnded(step: try stepIndex(), output: p?["o"] ?? .null, error: nil)
            }
        case "compensating":
            guard let state = ExecutionState(rawValue: p?["s"]?.stringValue ?? ""), state.isFinal else {
                throw bad("no final state")
            }
            event = .compensating(state: state, error: p?["e"].flatMap(RunnerError.init(json:)))
        case "step.unknown": event = .stepUnknown(step: try stepIndex(), attempt: try attempt(), error: try error())
        case "finished":
            guard let state = ExecutionState(rawValue: p?["s"]?.stringValue ?? "completed"), state.isFinal else {
                throw bad("no final state")
            }
            event = .finished(state: state, error: p?["e"].flatMap(RunnerError.init(json:)))
        default:
            throw bad("unknown kind")
        }
        self.init(seq: r.seq, at: r.at, event: event)
    }

    /// An end's payload: nothing for a plain completion (the common case, kept small), else its state and
    /// error.
    static func endPayload(_ state: ExecutionState, _ error: RunnerError?) -> JSONValue? {
        if state == .completed && error == nil { return nil }
        var o: [String: JSONValue] = ["s": .string(state.rawValue)]
        if let error { o["e"] = error.json }
        return .object(o)
    }

    private static func receipt(_ r: Receipt) -> [String: JSONValue] {
        var o: [String: JSONValue] = [:]
        if let pid = r.pid { o["p"] = .int(Int64(pid)) }
        if let v = r.version { o["v"] = .string(v) }
        return o
    }
}

extension ExecutionEvent {
    /// The record's `kind`.
    public var kind: String {
        switch self {
        case .submitted: "submitted"
        case .started: "started"
        case .stepSkipped: "step.skipped"
        case .blockStarted: "block.started"
        case .stepDispatched: "step.dispatched"
        case .stepSucceeded: "step.ok"
        case .stepFailed: "step.failed"
        case .stepInterrupted: "step.interrupted"
        case .stepUnknown: "step.unknown"
        case .fallbackEnded: "fallback.ended"
        case .compensating: "compensating"
        case .cancelRequested: "cancel.requested"
        case .deadlinePassed: "deadline.passed"
        case .finished: "finished"
        }
    }
}

extension ExecutionEvent {
    /// The record of an execution's end, for an execution whose plan cannot be built.
    public static func finishedRecord(seq: Int, at: Int64, state: ExecutionState, error: RunnerError?) -> EventRecord {
        EventRecord(seq: seq, at: at, kind: ExecutionEvent.finished(state: state, error: error).kind,
                    payload: JournalEntry.endPayload(state, error))
    }
}
