import Foundation
import JALMStore
import JALMWire

/// A fresh directory under /tmp for one test's database, removed with everything in it by `remove()`.
struct TempDir {
    let path: String

    init() {
        var template = Array("/tmp/jalm-store-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var database: String { path + "/journal.sqlite" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Opens a store in a fresh directory, runs `body`, closes the store and removes the directory.
func withStore<R>(synchronous: Synchronous = .normal, _ body: (Store, TempDir) async throws -> R) async throws -> R {
    let dir = TempDir()
    defer { dir.remove() }
    let store = try Store(path: dir.database, synchronous: synchronous)
    defer { store.close() }
    return try await body(store, dir)
}

func execution(_ id: String, state: String = "pending", createdAt: Int64 = 1_700_000_000_000) -> ExecutionRecord {
    ExecutionRecord(id: id, intent: "intent of \(id)", state: state, capsule: #"{"intent":"x","steps":[]}"#,
                    createdAt: createdAt, startedAt: nil, finishedAt: nil, error: nil, priority: 0)
}

func stepRun(_ executionID: String, index: Int = 0, attempt: Int = 1, state: String = "queued") -> StepRunRecord {
    StepRunRecord(executionID: executionID, stepIndex: index, stepID: "s\(index)", attempt: attempt, layer: "io-file",
                  op: "read", sideEffect: "read", state: state, input: ["path": "a.txt"], output: nil, error: nil,
                  queuedAt: 1_700_000_000_100, dispatchedAt: nil, finishedAt: nil, layerPID: nil, pluginVersion: nil,
                  idempotencyKey: nil)
}
