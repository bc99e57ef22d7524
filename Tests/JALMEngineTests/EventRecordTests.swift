import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire
import Testing

/// Every event survives the journal's record form unchanged, including the edges that compact payloads
/// drop (a call that took 0 ms, an end without an error): a fold after a restart must see what the live
/// machine saw.
@Suite struct EventRecordTests {
    static let plan = Fixtures.plan([("a", "read"), ("w", "write")])
    static let error = RunnerError(.upstreamError, "no", pointer: "/steps/1", details: ["status": 400],
                                   retryable: false)
    static let receipt = Receipt(pid: 42, version: "1.2.3")

    static let events: [(at: Int64, event: ExecutionEvent)] = [
        (1000, .submitted(startsNow: true)),
        (1000, .submitted(startsNow: false)),
        (1001, .started),
        (1001, .stepSkipped(step: 0)),
        (1002, .stepDispatched(step: 1, attempt: 1)),
        (1005, .stepSucceeded(step: 0, attempt: 2, dispatchedAt: 1002, receipt: receipt, output: ["n": 1])),
        (1005, .stepSucceeded(step: 0, attempt: 1, dispatchedAt: 1005, receipt: Receipt(), output: .null)),
        (1007, .stepFailed(step: 1, attempt: 1, state: .error, dispatchedAt: 1007, receipt: receipt, error: error,
                           retryAt: nil)),
        (1007, .stepFailed(step: 1, attempt: 1, state: .timedOut, dispatchedAt: 1002, receipt: receipt,
                           error: RunnerError(.timeout, "slow"), retryAt: 1400)),
        (1007, .stepFailed(step: 1, attempt: 3, state: .error, dispatchedAt: nil, receipt: Receipt(), error: error,
                           retryAt: nil)),
        (1007, .stepFailed(step: 0, attempt: 2, state: .error, dispatchedAt: 1003, receipt: receipt, error: error,
                           retryAt: nil, continues: true)),
        (1008, .stepInterrupted(step: 0, attempt: 1)),
        (1008, .stepUnknown(step: 1, attempt: 1, error: RunnerError(.unknown, "may or may not"))),
        (1009, .cancelRequested),
        (1010, .finished(state: .completed, error: nil)),
        (1010, .finished(state: .failed, error: error)),
        (1010, .finished(state: .cancelled, error: RunnerError(.cancelled, "by request"))),
    ]

    @Test(arguments: events.indices)
    func anEventReadBackIsTheEventWritten(_ i: Int) throws {
        let entry = JournalEntry(seq: i + 1, at: Self.events[i].at, event: Self.events[i].event)
        let record = entry.record(plan: Self.plan)
        // Through the bytes the journal stores, as a restart reads them.
        let stored = EventRecord(seq: record.seq, at: record.at, kind: record.kind, address: record.address,
                                 attempt: record.attempt, payloadText: record.payloadText)
        #expect(try JournalEntry(record: stored, plan: Self.plan) == entry)
    }
}
