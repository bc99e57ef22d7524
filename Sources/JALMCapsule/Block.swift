import JALMCore
import JALMExpr
import JALMWire

/// A step that holds steps: `switch`, `foreach` or `parallel`. It calls no layer itself; the machine runs
/// the sequences inside it and gives it an output made of theirs.
public enum Block: Sendable, Hashable {
    /// Ordered cases: the first whose `when` holds runs its steps; a case without `when` is the default
    /// (last). When none holds and there is no default, the switch ends ok with a null output.
    case `switch`([SwitchCase])
    case foreach(Foreach)
    /// Named branches that run at once, in the order of their names.
    case parallel(branches: [Branch], failFast: Bool)

    /// The word that names the block in views and messages.
    public var kind: String {
        switch self {
        case .switch: "switch"
        case .foreach: "foreach"
        case .parallel: "parallel"
        }
    }

    /// The sequences it holds, in order: the cases, the loop's body, or the branches.
    public var sequences: [[Step]] {
        switch self {
        case .switch(let cases): cases.map(\.steps)
        case .foreach(let f): [f.steps]
        case .parallel(let branches, _): branches.map(\.steps)
        }
    }
}

public struct SwitchCase: Sendable, Hashable {
    /// nil for `default`.
    public var when: Expression?
    public var steps: [Step]
    /// Where the case is: `/steps/2/switch/0`.
    public var pointer: JSONPointer

    public init(when: Expression?, steps: [Step], pointer: JSONPointer) {
        self.when = when
        self.steps = steps
        self.pointer = pointer
    }
}

public struct Branch: Sendable, Hashable {
    public var name: String
    public var steps: [Step]

    public init(name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
    }
}

/// `foreach: ITEMS` with `as`, `concurrency`, `fail_fast`, `collect` and `steps` beside it.
public struct Foreach: Sendable, Hashable {
    /// A list, or a template that gives one (`"{{ steps.q.output.rows }}"`), as written; null when the
    /// items are pages of a source step (`source`).
    public var items: JSONValue
    /// `foreach: {items_from: ...}`: the items are the pages of an earlier read step.
    public var source: PageSource?
    /// The name an iteration's item is read by (`{{ order.id }}`, `$.order` in a condition); `index` is its
    /// place from 0.
    public var itemName: String
    /// Iterations running at once, at most.
    public var concurrency: Int
    /// A failed iteration stops the others (their calls are cancelled, no new one starts).
    public var failFast: Bool
    /// The id of a step in the body whose output is collected; nil: each iteration's last step.
    public var collect: String?
    public var steps: [Step]

    public static let defaultItemName = "item"
    /// The name an iteration's index is read by.
    public static let indexName = "index"
    /// The most iterations running at once one foreach may ask for.
    public static let maxConcurrency = 1024
    /// The most items one foreach takes: they are journaled when the loop starts.
    public static let maxItems = 100_000

    public init(items: JSONValue, itemName: String = Foreach.defaultItemName, concurrency: Int = 1,
                failFast: Bool = true, collect: String? = nil, steps: [Step]) {
        self.items = items
        self.itemName = itemName
        self.concurrency = concurrency
        self.failFast = failFast
        self.collect = collect
        self.steps = steps
    }
}

extension Step {
    /// The lists of steps this one holds: its block's, then its `on_error` fallback.
    public var innerSequences: [[Step]] {
        var lists = block?.sequences ?? []
        if let fallback = onError.fallback { lists.append(fallback) }
        return lists
    }

    /// Every step inside this one (its block's, its fallback's), at any depth, in document order.
    public var descendants: [Step] {
        var out: [Step] = []
        for sequence in innerSequences {
            for step in sequence { out.append(step); out += step.descendants }
        }
        return out
    }
}
