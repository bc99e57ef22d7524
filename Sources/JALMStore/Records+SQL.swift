import JALMCore
import JALMWire

// Column lists and row decoding, kept beside each other so that the indexes cannot drift apart.

extension ExecutionRecord {
    static let columns = "id, intent, state, capsule, created_at, started_at, finished_at, error, priority"

    init(row s: Statement) throws(RunnerError) {
        self.init(
            id: s.string(at: 0) ?? "", intent: s.string(at: 1) ?? "", state: s.string(at: 2) ?? "",
            capsule: s.string(at: 3) ?? "", createdAt: s.int64(at: 4), startedAt: s.optionalInt64(at: 5),
            finishedAt: s.optionalInt64(at: 6), error: try s.json(at: 7), priority: Int(s.int64(at: 8)))
    }
}

extension StepRunRecord {
    static let columns = """
        execution_id, step_index, step_id, attempt, layer, op, side_effect, state, input, output, error, \
        queued_at, dispatched_at, finished_at, layer_pid, plugin_version, idempotency_key
        """

    init(row s: Statement) throws(RunnerError) {
        self.init(
            executionID: s.string(at: 0) ?? "", stepIndex: Int(s.int64(at: 1)), stepID: s.string(at: 2) ?? "",
            attempt: Int(s.int64(at: 3)), layer: s.string(at: 4) ?? "", op: s.string(at: 5) ?? "",
            sideEffect: s.string(at: 6) ?? "", state: s.string(at: 7) ?? "", input: try s.json(at: 8),
            output: try s.json(at: 9), error: try s.json(at: 10), queuedAt: s.int64(at: 11),
            dispatchedAt: s.optionalInt64(at: 12), finishedAt: s.optionalInt64(at: 13),
            layerPID: s.optionalInt64(at: 14).map { Int($0) }, pluginVersion: s.string(at: 15),
            idempotencyKey: s.string(at: 16))
    }

    /// Parameter values in `columns` order.
    var values: [SQLiteValue] {
        [.text(executionID), .integer(Int64(stepIndex)), .text(stepID), .integer(Int64(attempt)), .text(layer),
         .text(op), .text(sideEffect), .text(state), .json(input), .json(output), .json(error), .integer(queuedAt),
         .integer(dispatchedAt), .integer(finishedAt), .integer(layerPID.map { Int64($0) }), .text(pluginVersion),
         .text(idempotencyKey)]
    }
}

extension LayerEventRecord {
    static let columns = "at, layer, event, detail"

    init(row s: Statement) throws(RunnerError) {
        self.init(at: s.int64(at: 0), layer: s.string(at: 1) ?? "", event: s.string(at: 2) ?? "",
                  detail: try s.json(at: 3))
    }
}

extension SQLiteValue {
    /// A JSON column: TEXT written by `JSONWriter`, NULL for nil.
    static func json(_ value: JSONValue?) -> SQLiteValue { value.map { .text(JSONWriter.string($0)) } ?? .null }

    static func integer(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }

    static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
}

extension Statement {
    /// A JSON column read back with `JSONParser`; nil when NULL.
    func json(at index: Int) throws(RunnerError) -> JSONValue? {
        guard let text = string(at: index) else { return nil }
        do {
            return try JSONParser.parse(text)
        } catch {
            throw RunnerError(.internal, "corrupt JSON in column \(index) of \(sql): \(error)")
        }
    }
}
