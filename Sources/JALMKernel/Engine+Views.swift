import JALMCapsule
import JALMCore
import JALMDocument
import JALMStore
import JALMWire

extension Engine {
    /// An execution as `GET /exec/{id}` shows it: state, timings, and each step with its attempts.
    public func view(id: String) throws(RunnerError) -> JSONValue {
        guard ExecutionID.isValid(id) else { throw RunnerError(.notFound, "no execution \(id)") }
        let record: ExecutionRecord?
        let runs: [StepRunRecord]
        do {
            record = try store.execution(id: id)
            runs = record == nil ? [] : try store.stepRuns(executionID: id)
        } catch {
            throw RunnerError(.internal, "cannot read execution \(id): \(error)")
        }
        guard let record else { throw RunnerError(.notFound, "no execution \(id)") }
        let steps = outlines.outline(id) ?? ((try? CapsuleParser.parse(
            Document.parse(Array(record.capsule.utf8), contentType: nil)).steps) ?? []).map {
                StepOutlineCache.Outline(index: $0.index, id: $0.id, layer: $0.layer, op: $0.op)
            }
        var stepViews: [JSONValue] = []
        var outputs: [String: JSONValue] = [:]
        for step in steps {
            let mine = runs.filter { $0.stepIndex == step.index }
            let last = mine.last
            if let last, last.state == StepRunState.ok.rawValue { outputs[step.id] = last.output ?? .null }
            stepViews.append([
                "id": .string(step.id), "layer": .string(step.layer), "op": .string(step.op),
                "state": .string(last?.state ?? "pending"), "attempts": .int(Int64(mine.count)),
                "duration_ms": Self.duration(last?.dispatchedAt, last?.finishedAt),
                "output": last?.output ?? .null, "error": last?.error ?? .null,
                "runs": .array(mine.map(Self.runView)),
            ])
        }
        var view = Self.summary(record)
        view["steps"] = .array(stepViews)
        view["outputs"] = .object(outputs)
        view["started_at"] = record.startedAt.map { .int($0) } ?? .null
        view["duration_ms"] = Self.duration(record.startedAt ?? record.createdAt, record.finishedAt)
        view["error"] = record.error ?? .null
        return .object(view)
    }

    /// `GET /exec`: newest first, keyset-paginated.
    public func list(state: String?, limit: Int, cursor: String?) throws(RunnerError) -> JSONValue {
        if let state, ExecutionState(rawValue: state) == nil {
            throw RunnerError(.invalidInput, "unknown state \"\(state)\"; states are: "
                + ExecutionState.allCases.map(\.rawValue).joined(separator: ", "), pointer: "/state")
        }
        guard (1...1000).contains(limit) else {
            throw RunnerError(.invalidInput, "limit must be from 1 to 1000", pointer: "/limit")
        }
        do {
            let page = try store.listExecutions(state: state, limit: limit, cursor: cursor)
            return ["items": .array(page.items.map { .object(Self.summary($0)) }),
                    "next_cursor": page.nextCursor.map { .string($0) } ?? .null]
        } catch {
            throw RunnerError(.invalidInput, "cannot list executions: \(error)", pointer: "/cursor")
        }
    }

    static func summary(_ r: ExecutionRecord) -> [String: JSONValue] {
        ["id": .string(r.id), "intent": .string(r.intent), "state": .string(r.state), "created_at": .int(r.createdAt),
         "finished_at": r.finishedAt.map { .int($0) } ?? .null]
    }

    static func runView(_ r: StepRunRecord) -> JSONValue {
        ["attempt": .int(Int64(r.attempt)), "state": .string(r.state),
         "pid": r.layerPID.map { .int(Int64($0)) } ?? .null,
         "plugin_version": r.pluginVersion.map { .string($0) } ?? .null,
         "dispatched_at": r.dispatchedAt.map { .int($0) } ?? .null,
         "finished_at": r.finishedAt.map { .int($0) } ?? .null,
         "duration_ms": duration(r.dispatchedAt, r.finishedAt), "error": r.error ?? .null]
    }

    static func duration(_ from: Int64?, _ to: Int64?) -> JSONValue {
        guard let from, let to else { return .null }
        return .int(to - from)
    }
}
