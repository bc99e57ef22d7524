import JALMCore
import JALMWire

/// Reads the executions of a schema-1 journal (tables renamed `v1_executions`, `v1_step_runs` for the upgrade).
enum LegacyReader {
    static func executions(_ db: SQLiteConnection) throws(RunnerError) -> [LegacyExecution] {
        var out: [LegacyExecution] = []
        try db.using("""
            SELECT id, intent, state, capsule, created_at, started_at, finished_at, error
            FROM v1_executions ORDER BY created_at, id
            """) { s throws(RunnerError) in
            while try s.step() {
                out.append(LegacyExecution(
                    id: s.string(at: 0) ?? "", intent: s.string(at: 1) ?? "", state: s.string(at: 2) ?? "",
                    capsule: s.string(at: 3) ?? "", createdAt: s.int64(at: 4), startedAt: s.optionalInt64(at: 5),
                    finishedAt: s.optionalInt64(at: 6), error: try s.json(at: 7), runs: []))
            }
        }
        for i in out.indices { out[i].runs = try runs(db, of: out[i].id) }
        return out
    }

    static func runs(_ db: SQLiteConnection, of id: String) throws(RunnerError) -> [LegacyStepRun] {
        try db.using("""
            SELECT step_index, step_id, attempt, side_effect, state, output, error, queued_at, dispatched_at,
                finished_at, layer_pid, plugin_version
            FROM v1_step_runs WHERE execution_id = ?1 ORDER BY step_index, attempt
            """) { s throws(RunnerError) in
            try s.bind(id, at: 1)
            var runs: [LegacyStepRun] = []
            while try s.step() {
                runs.append(LegacyStepRun(
                    stepIndex: Int(s.int64(at: 0)), stepID: s.string(at: 1) ?? "", attempt: Int(s.int64(at: 2)),
                    sideEffect: s.string(at: 3) ?? "external", state: s.string(at: 4) ?? "", output: try s.json(at: 5),
                    error: try s.json(at: 6), queuedAt: s.int64(at: 7), dispatchedAt: s.optionalInt64(at: 8),
                    finishedAt: s.optionalInt64(at: 9), layerPID: s.optionalInt64(at: 10).map { Int($0) },
                    pluginVersion: s.string(at: 11)))
            }
            return runs
        }
    }
}

extension Statement {
    /// A JSON column (TEXT written by `JSONWriter`), nil when NULL.
    func json(at index: Int) throws(RunnerError) -> JSONValue? {
        guard let text = string(at: index) else { return nil }
        do { return try JSONParser.parse(text) } catch {
            throw RunnerError(.internal, "sqlite: column \(index) of \(sql) is not JSON: \(error)")
        }
    }
}

extension SQLiteValue {
    /// A JSON column: TEXT written by `JSONWriter`, NULL for nil.
    static func json(_ value: JSONValue?) -> SQLiteValue { value.map { .text(JSONWriter.string($0)) } ?? .null }

    static func integer(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }

    static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
}
