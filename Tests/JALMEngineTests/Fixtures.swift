import JALMCapsule
import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire

/// A catalog of test ops on layer `t`, one per side effect, plus an idempotent write.
enum Fixtures {
    static let catalog: Catalog = {
        func card(_ op: String, _ side: SideEffect, idempotent: Bool = false) -> StepCard {
            var c = StepCard(layer: "t", op: op, summary: op, sideEffect: side, ioType: "test", defaultTimeoutMs: 5000,
                             inputSchema: ["type": "object"], outputSchema: ["type": "object"])
            c.idempotent = idempotent
            return c
        }
        var query = card("query", .read)
        query.layer = "io-db"
        return Catalog(layers: [LayerInfo(name: "t"), LayerInfo(name: "io-db")], cards: [
            card("pure", .none), card("read", .read), card("write", .write), card("external", .external),
            card("idem", .write, idempotent: true), query,
        ])
    }()

    /// A plan of steps given as (id, op) pairs, with optional extra keys per step.
    static func plan(_ steps: [(String, String)], extra: [String: JSONValue] = [:], vars: JSONValue = [:],
                     meta: JSONValue? = nil) -> Plan {
        var list: [JSONValue] = []
        for (id, op) in steps {
            var s: [String: JSONValue] = ["id": .string(id), "layer": "t", "op": .string(op), "input": ["x": 1]]
            for (k, v) in extra[id]?.objectValue ?? [:] { s[k] = v }
            // A control step has no layer, op or input.
            if s["set"] != nil || s["abort"] != nil { s["layer"] = nil; s["op"] = nil; s["input"] = nil }
            list.append(.object(s))
        }
        var document: [String: JSONValue] = ["intent": "test", "vars": vars, "steps": .array(list)]
        if let meta { document["meta"] = meta }
        let capsule = try! CapsuleParser.parse(.object(document))
        return try! Plan(capsule: capsule, catalog: catalog)
    }

    /// A plan of steps written out (blocks and all); a step without `layer` and `op` gets layer t and op
    /// pure unless it is a control step or a block.
    static func plan(steps: [JSONValue], vars: JSONValue = [:], meta: JSONValue? = nil) -> Plan {
        func fill(_ step: JSONValue) -> JSONValue {
            guard case .object(var s) = step else { return step }
            let control = ["set", "abort", "switch", "foreach", "parallel"].contains { s[$0] != nil }
            if !control {
                if s["layer"] == nil { s["layer"] = "t" }
                if s["op"] == nil { s["op"] = "pure" }
            }
            if case .array(let inner)? = s["steps"] { s["steps"] = .array(inner.map(fill)) }
            if case .array(let inner)? = s["on_error"]?["steps"] { s["on_error"] = ["steps": .array(inner.map(fill))] }
            if case .object(var c)? = s["compensate"] {
                if c["layer"] == nil { c["layer"] = "t" }
                if c["op"] == nil { c["op"] = "pure" }
                s["compensate"] = .object(c)
            }
            if case .array(let cases)? = s["switch"] {
                s["switch"] = .array(cases.map { c in
                    guard case .object(var o) = c else { return c }
                    for k in ["steps", "default"] { if case .array(let inner)? = o[k] { o[k] = .array(inner.map(fill)) } }
                    return .object(o)
                })
            }
            if case .object(let branches)? = s["parallel"] {
                s["parallel"] = .object(branches.mapValues { b in b.arrayValue.map { .array($0.map(fill)) } ?? b })
            }
            return .object(s)
        }
        var document: [String: JSONValue] = ["intent": "test", "vars": vars, "steps": .array(steps.map(fill))]
        if let meta { document["meta"] = meta }
        let capsule = try! CapsuleParser.parse(.object(document))
        try! CapsuleValidator(catalog: catalog, announcedOps: Set(catalog.cards.map(\.qualifiedName))).validate(capsule)
        return try! Plan(capsule: capsule, catalog: catalog)
    }

    static let id = "ex_00000000000a0000000001"
}

extension Array where Element == MachineCommand {
    var journaled: [JournalEntry] {
        flatMap { c -> [JournalEntry] in
            if case .journal(let e, _) = c { return e }
            return []
        }
    }
    var durability: Durability? {
        for c in self { if case .journal(_, let d) = c { return d } }
        return nil
    }
    var dispatches: [StepCall] {
        compactMap { c -> StepCall? in
            if case .dispatch(let call) = c { return call }
            return nil
        }
    }
    var finished: (ExecutionState, RunnerError?)? {
        for c in self { if case .finished(let s, let e) = c { return (s, e) } }
        return nil
    }
    var timers: [(StepRef, Int, Int64)] {
        compactMap { c -> (StepRef, Int, Int64)? in
            if case .startTimer(let s, let a, let at) = c { return (s, a, at) }
            return nil
        }
    }
}
