import JALMCore
import JALMWire

/// The view written straight to bytes, keys in sorted order, without building a `JSONValue` tree first:
/// it is made for every `?wait=` answer and every `GET /exec/{id}`. `json` and this must agree (a test
/// parses these bytes and compares them with `json`).
extension ExecutionView {
    public static func bytes(_ header: Header, machine: ExecutionMachine, executionID: Bool = false) -> [UInt8] {
        var w = ObjectWriter()
        w.out.reserveCapacity(512 + 256 * machine.plan.steps.count)
        let s = machine.state
        w.begin()
        w.int("created_at", s.createdAt ?? 0)
        if s.dryRun {
            w.key("dry_run")
            w.value(true)
        }
        w.duration("duration_ms", s.startedAt ?? s.createdAt, s.finishedAt)
        w.key("error")
        if case .finished(_, let e?) = s.phase { w.value(e.json) } else { w.null() }
        if executionID { w.string("execution_id", header.id) }
        w.optionalInt("finished_at", s.finishedAt)
        w.string("id", header.id)
        if let key = header.idempotencyKey { w.string("idempotency_key", key) }
        w.string("intent", header.intent)
        w.key("outputs")
        w.value(.object(machine.outputs))
        w.optionalInt("started_at", s.startedAt)
        w.string("state", s.phase.state.rawValue)
        w.key("steps")
        w.out.append(UInt8(ascii: "["))
        for (i, ref) in order(machine).enumerated() {
            if i > 0 { w.out.append(UInt8(ascii: ",")) }
            let planStep = machine.plan.steps[ref.node]
            let undone = planStep.undoes.map { machine.plan.address(of: StepRef(node: $0, path: ref.path)) }
            step(planStep, address: machine.plan.address(of: ref), s[ref], compensates: undone, into: &w)
        }
        w.out.append(UInt8(ascii: "]"))
        w.end()
        return w.out
    }

    private static func step(_ planStep: PlanStep, address: String, _ progress: ExecutionMachine.StepProgress,
                             compensates: String?, into w: inout ObjectWriter) {
        let last = progress.attempts.last
        w.begin()
        w.int("attempts", Int64(progress.attempts.count))
        if let compensates { w.string("compensates", compensates) }
        w.duration("duration_ms", last?.dispatchedAt, last?.finishedAt)
        w.key("error")
        if let e = stepError(progress) { w.value(e.json) } else { w.null() }
        if let f = progress.fallback { w.string("fallback", fallbackText(f)) }
        w.string("id", address)
        w.key("layer")
        if let layer = planStep.viewLayer { w.stringValue(layer) } else { w.null() }
        w.string("op", planStep.viewOp)
        w.key("output")
        if progress.status == .ok { w.value(progress.output ?? .null) } else { w.null() }
        w.key("runs")
        w.out.append(UInt8(ascii: "["))
        for (i, a) in progress.attempts.enumerated() {
            if i > 0 { w.out.append(UInt8(ascii: ",")) }
            run(a, into: &w)
        }
        w.out.append(UInt8(ascii: "]"))
        w.string("state", stepState(progress))
        w.end()
    }

    private static func run(_ a: ExecutionMachine.Attempt, into w: inout ObjectWriter) {
        w.begin()
        w.int("attempt", Int64(a.number))
        w.optionalInt("dispatched_at", a.dispatchedAt)
        w.duration("duration_ms", a.dispatchedAt, a.finishedAt)
        w.key("error")
        if let e = a.error { w.value(e.json) } else { w.null() }
        w.optionalInt("finished_at", a.finishedAt)
        w.optionalInt("pid", a.receipt.pid.map(Int64.init))
        w.key("plugin_version")
        if let v = a.receipt.version { w.stringValue(v) } else { w.null() }
        w.string("state", a.state.rawValue)
        w.end()
    }
}

/// Writes one JSON object after another; the caller gives the keys in sorted order.
struct ObjectWriter {
    var out: [UInt8] = []
    private var first: [Bool] = []

    mutating func begin() {
        out.append(UInt8(ascii: "{"))
        first.append(true)
    }

    mutating func end() {
        out.append(UInt8(ascii: "}"))
        first.removeLast()
    }

    mutating func key(_ k: StaticString) {
        if first[first.count - 1] { first[first.count - 1] = false } else { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    mutating func null() { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
    mutating func value(_ v: JSONValue) { JSONWriter.write(v, into: &out, sortedKeys: true) }
    mutating func stringValue(_ s: String) { JSONWriter.writeString(s, into: &out) }

    mutating func string(_ k: StaticString, _ s: String) {
        key(k)
        stringValue(s)
    }

    mutating func int(_ k: StaticString, _ i: Int64) {
        key(k)
        JSONWriter.writeInt(i, into: &out)
    }

    mutating func optionalInt(_ k: StaticString, _ i: Int64?) {
        key(k)
        if let i { JSONWriter.writeInt(i, into: &out) } else { null() }
    }

    mutating func duration(_ k: StaticString, _ from: Int64?, _ to: Int64?) {
        if let from, let to { int(k, to - from) } else { key(k); null() }
    }
}
