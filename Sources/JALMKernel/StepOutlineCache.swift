import Synchronization
import JALMCapsule

/// The steps of recent executions (id, layer, op), so that `GET /exec/{id}` and `?wait=` answers need
/// not parse the stored capsule again. Bounded; older entries fall back to parsing.
final class StepOutlineCache: Sendable {
    struct Outline: Sendable {
        var index: Int
        var id: String
        var layer: String
        var op: String
    }

    static let capacity = 4096

    private struct State: ~Copyable {
        var entries: [String: [Outline]] = [:]
        var order: [String] = []
        var head = 0
    }
    private let state = Mutex(State())

    func remember(_ id: String, _ steps: [Step]) {
        let outline = steps.map { Outline(index: $0.index, id: $0.id, layer: $0.layer, op: $0.op) }
        state.withLock { s in
            if s.order.count < Self.capacity {
                s.order.append(id)
            } else {
                s.entries[s.order[s.head]] = nil
                s.order[s.head] = id
                s.head = (s.head + 1) % Self.capacity
            }
            s.entries[id] = outline
        }
    }

    func outline(_ id: String) -> [Outline]? { state.withLock { $0.entries[id] } }
}
