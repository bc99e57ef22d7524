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
            var view: [String: JSONValue] = [
                "id": .string(machine.plan.address(of: ref)), "layer": planStep.viewLayer.map(JSONValue.string) ?? .null, "op": .string(planStep.viewOp),
                "state": .string(stepState(progress)), "attempts": .int(Int64(progress.attempts.count)),
                "duration_ms": duration(last?.dispatchedAt, last?.finishedAt),
                "output": progress.status == .ok ? progress.output ?? .null : .null,
                "error": stepError(progress)?.json ?? .null,
                "runs": .array(progress.attempts.map(run)),
            ]
            if let undone = planStep.undoes {
                view["compensates"] = .string(machine.plan.address(of: StepRef(node: undone, path: ref.path)))
            }
            if let f = progress.fallback { view["fallback"] = .string(fallbackText(f)) }
            steps.append(.object(view))
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

    /// A step's state: its last attempt's, unless its fallback decided it.
    static func stepState(_ p: ExecutionMachine.StepProgress) -> String {
        if p.status == .ok { return "ok" }
        if case .failed? = p.fallback { return "error" }
        return p.attempts.last?.state.rawValue ?? "pending"
    }

    /// A step's error: none once it is ok (a fallback stood in), its fallback's when that failed, else its
    /// last attempt's.
    static func stepError(_ p: ExecutionMachine.StepProgress) -> RunnerError? {
        if p.status == .ok { return nil }
        if case .failed(let e)? = p.fallback { return e }
        return p.attempts.last?.error
    }

    static func fallbackText(_ f: ExecutionMachine.FallbackState) -> String {
        switch f {
        case .running: "running"
        case .ok: "ok"
        case .failed: "failed"
        }
    }

    /// The step runs a view lists, in document order: every step outside blocks; inside a block that
    /// started, its chosen case, its branches, or each iteration started so far, in order; a fallback that
    /// started after its step; then, once the execution compensates, its compensations in the order they run.
    static func order(_ machine: ExecutionMachine) -> [StepRef] {
        let plan = machine.plan
        guard plan.hasBlocks else { return plan.steps.indices.map { StepRef(node: $0) } }
        var out: [StepRef] = []
        func walk(_ sequence: Int, _ path: [Int]) {
            for node in plan.sequences[sequence].nodes {
                let ref = StepRef(node: node, path: path)
                out.append(ref)
                if let block = machine.state.blocks[ref] {
                    let children = plan.steps[node].children
                    switch plan.steps[node].step.block {
                    case .switch?: if let k = block.choice { walk(children[k], path) }
                    case .foreach? where plan.steps[node].pageFetch != nil:
                        // A paged loop: the pages fetched and the iterations it still holds.
                        let fetch = plan.steps[node].pageFetch!
                        for k in 0...max(block.launched, block.items.count) where !block.pruned.contains(k) {
                            let page = StepRef(node: fetch, path: path + [k])
                            if machine.state.looped[page] != nil { out.append(page) }
                            if k < block.launched { walk(children[0], path + [k]) }
                        }
                    case .foreach?: for k in 0..<block.launched { walk(children[0], path + [k]) }
                    case .parallel?: for c in children { walk(c, path) }
                    case nil: break
                    }
                }
                if let fallback = plan.steps[node].fallback, machine.state.fallback(of: ref) != nil { walk(fallback, path) }
            }
        }
        walk(0, [])
        if machine.state.compensating != nil {
            for ref in machine.state.compensable.reversed() {
                out.append(StepRef(node: plan.steps[ref.node].compensation!, path: ref.path))
            }
        }
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
