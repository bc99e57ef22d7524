import JALMCore
import JALMWire

/// An execution as `GET /exec/{id}` and `?wait=` answers show it, made from the machine's state: the same
/// view whether the execution is live in memory or folded from the journal.
public enum ExecutionView {
    public struct Header: Sendable {
        public var id: String
        public var intent: String
        public var idempotencyKey: String?

        public init(id: String, intent: String, idempotencyKey: String? = nil) {
            self.id = id
            self.intent = intent
            self.idempotencyKey = idempotencyKey
        }
    }

    public static func json(_ header: Header, machine: ExecutionMachine) -> JSONValue {
        let s = machine.state
        var steps: [JSONValue] = []
        for ref in order(machine) {
            let planStep = machine.plan.steps[ref.node]
            let progress = s[ref]
            let last = progress.attempts.last
            steps.append([
                "id": .string(machine.plan.address(of: ref)), "layer": planStep.viewLayer.map(JSONValue.string) ?? .null, "op": .string(planStep.viewOp),
                "state": .string(last?.state.rawValue ?? "pending"), "attempts": .int(Int64(progress.attempts.count)),
                "duration_ms": duration(last?.dispatchedAt, last?.finishedAt),
                "output": progress.status == .ok ? progress.output ?? .null : .null,
                "error": last?.error?.json ?? .null,
                "runs": .array(progress.attempts.map(run)),
            ])
        }
        var error: JSONValue = .null
        if case .finished(_, let e?) = s.phase { error = e.json }
        var view = summary(id: header.id, intent: header.intent, state: s.phase.state.rawValue,
                           createdAt: s.createdAt ?? 0, finishedAt: s.finishedAt)
        view["steps"] = .array(steps)
        view["outputs"] = .object(machine.outputs)
        view["started_at"] = s.startedAt.map { .int($0) } ?? .null
        view["duration_ms"] = duration(s.startedAt ?? s.createdAt, s.finishedAt)
        view["error"] = error
        if let key = header.idempotencyKey { view["idempotency_key"] = .string(key) }
        if s.dryRun { view["dry_run"] = true }
        return .object(view)
    }

    /// The step runs a view lists, in document order: every step outside blocks; inside a block that
    /// started, its chosen case, its branches, or each iteration started so far, in order.
    static func order(_ machine: ExecutionMachine) -> [StepRef] {
        let plan = machine.plan
        guard plan.hasBlocks else { return plan.steps.indices.map { StepRef(node: $0) } }
        var out: [StepRef] = []
        func walk(_ sequence: Int, _ path: [Int]) {
            for node in plan.sequences[sequence].nodes {
                let ref = StepRef(node: node, path: path)
                out.append(ref)
                guard let block = machine.state.blocks[ref] else { continue }
                let children = plan.steps[node].children
                switch plan.steps[node].step.block {
                case .switch?: if let k = block.choice { walk(children[k], path) }
                case .foreach?: for k in 0..<block.launched { walk(children[0], path + [k]) }
                case .parallel?: for c in children { walk(c, path) }
                case nil: break
                }
            }
        }
        walk(0, [])
        return out
    }

    /// The fields of an execution that `GET /exec` lists.
    public static func summary(id: String, intent: String, state: String, createdAt: Int64, finishedAt: Int64?)
        -> [String: JSONValue]
    {
        ["id": .string(id), "intent": .string(intent), "state": .string(state), "created_at": .int(createdAt),
         "finished_at": finishedAt.map { .int($0) } ?? .null]
    }

    static func run(_ a: ExecutionMachine.Attempt) -> JSONValue {
        ["attempt": .int(Int64(a.number)), "state": .string(a.state.rawValue),
         "pid": a.receipt.pid.map { .int(Int64($0)) } ?? .null,
         "plugin_version": a.receipt.version.map { .string($0) } ?? .null,
         "dispatched_at": a.dispatchedAt.map { .int($0) } ?? .null,
         "finished_at": a.finishedAt.map { .int($0) } ?? .null,
         "duration_ms": duration(a.dispatchedAt, a.finishedAt), "error": a.error?.json ?? .null]
    }

    static func duration(_ from: Int64?, _ to: Int64?) -> JSONValue {
        guard let from, let to else { return .null }
        return .int(to - from)
    }
}
