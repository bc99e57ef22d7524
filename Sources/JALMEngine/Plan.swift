import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// A checked capsule compiled for running: a tree of steps, flattened. Every step (those inside blocks too)
/// has a place in `steps`, in document order, with what the catalog says about its op resolved once; every
/// list of steps (the capsule's, a switch case's, a foreach body, a parallel branch) is a `PlanSequence`.
/// The machine decides with these tables and never looks anything up.
public struct Plan: Sendable {
    public let capsule: Capsule
    public let steps: [PlanStep]
    /// The lists of steps; the capsule's own is 0.
    public let sequences: [PlanSequence]
    /// Some step assigns vars: the vars a step sees then depend on the steps before it.
    public let hasSetSteps: Bool
    /// Some step is a block, has a fallback or a compensation: outputs and vars are read through scopes, and
    /// views list what ran rather than every step.
    public let hasBlocks: Bool
    let indexByID: [String: Int]

    /// Fails with `not_found` when a step names an op the catalog does not have (the validator refuses such a
    /// capsule first; a journal written by an older catalog can still hold one).
    public init(capsule: Capsule, catalog: Catalog) throws(RunnerError) {
        var builder = Builder(catalog: catalog)
        _ = try builder.add(capsule.steps, owner: nil, loops: [], locals: [])
        self.capsule = capsule
        self.steps = builder.steps
        self.sequences = builder.sequences
        self.hasSetSteps = builder.steps.contains { $0.step.set != nil }
        self.hasBlocks = builder.steps.contains { $0.step.block != nil || $0.fallback != nil || $0.compensation != nil }
        self.indexByID = Dictionary(builder.steps.enumerated().map { ($1.step.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Builds the tables depth first, so that a block's steps follow it.
    struct Builder {
        let catalog: Catalog
        var steps: [PlanStep] = []
        var sequences: [PlanSequence] = []

        mutating func add(_ list: [Step], owner: Int?, loops: [Int], locals: Set<String>) throws(RunnerError) -> Int {
            let s = sequences.count
            sequences.append(PlanSequence(nodes: [], owner: owner))
            var nodes: [Int] = []
            for step in list {
                let n = steps.count
                nodes.append(n)
                var node: PlanStep
                if step.isControl {
                    node = try PlanStep(control: step, locals: locals)
                } else {
                    guard let card = catalog.card(layer: step.layer, op: step.op) else {
                        throw RunnerError(.notFound, "no op \(step.layer).\(step.op) in the catalog", at: step.pointer)
                    }
                    node = try PlanStep(step: step, card: card, locals: locals)
                }
                node.sequence = s
                node.loops = loops
                steps.append(node)
                if let compensation = step.compensation {
                    steps[n].compensation = try addCompensation(compensation.step(undoing: step), of: n, locals: locals)
                }
                if let block = step.block { try addBlock(block, of: n, loops: loops, locals: locals) }
                if let fallback = step.onError.fallback {
                    // It runs in place of the step: in the same iterations, seeing the same names.
                    steps[n].fallback = try add(fallback, owner: n, loops: loops, locals: locals)
                }
            }
            sequences[s].nodes = nodes
            return s
        }

        /// A block's sequences, after it.
        mutating func addBlock(_ block: Block, of n: Int, loops: [Int], locals: Set<String>) throws(RunnerError) {
            var children: [Int] = []
            var innerLoops = loops
            var innerLocals = locals
            if case .foreach(let f) = block {
                innerLoops.append(n)
                innerLocals.formUnion([f.itemName, Foreach.indexName])
            }
            for sequence in block.sequences {
                children.append(try add(sequence, owner: n, loops: innerLoops, locals: innerLocals))
            }
            steps[n].children = children
            if case .foreach(let f) = block, let id = f.collect {
                steps[n].collect = steps.firstIndex { $0.step.id == id }
            }
            if case .foreach(let f) = block, let source = f.source {
                try addPageFetch(source, of: n, loops: innerLoops, locals: locals)
            }
            if steps[n].pageFetch != nil {
                // The runs that belong to one iteration, and nothing deeper: what a paged loop lets go of.
                steps[n].iterationNodes = steps.indices.filter { steps[$0].loops.last == n && steps[$0].loops.count == innerLoops.count }
            }
        }

        /// A paged foreach's fetch: a call of its source step's op, in a one-step sequence of the loop's
        /// own, run once per page after the first (which is the source step's own run).
        mutating func addPageFetch(_ source: PageSource, of n: Int, loops: [Int], locals: Set<String>) throws(RunnerError) {
            guard let s = steps.firstIndex(where: { $0.step.id == source.step && $0.undoes == nil }),
                  let kind = PageSource.protocols[steps[s].step.qualifiedOp],
                  let card = catalog.card(layer: steps[s].step.layer, op: steps[s].step.op) else {
                throw RunnerError(.invalidInput, "items_from names no step that can be paged", at: source.pointer)
            }
            let from = steps[s].step
            let call = Step(index: from.index, id: steps[n].step.id + Paging.fetchSuffix, layer: from.layer, op: from.op,
                            input: from.input, timeoutMs: from.timeoutMs, retry: from.retry, pointer: from.pointer)
            let paging = Paging(kind: kind, page: source.page, key: source.key, loop: n)
            steps[s].paging = paging
            steps[n].pageSource = s
            let sequence = sequences.count
            sequences.append(PlanSequence(nodes: [steps.count], owner: n))
            var node = try PlanStep(step: call, card: card, locals: locals)
            node.sequence = sequence
            node.loops = loops
            node.paging = paging
            node.fetchesFor = n
            steps[n].pageFetch = steps.count
            steps.append(node)
        }

        /// A compensation's call: a step of the plan that is in no sequence (it runs only when the execution
        /// compensates), in the iterations of the step it undoes.
        mutating func addCompensation(_ call: Step, of n: Int, locals: Set<String>) throws(RunnerError) -> Int {
            guard let card = catalog.card(layer: call.layer, op: call.op) else {
                throw RunnerError(.notFound, "no op \(call.layer).\(call.op) in the catalog", at: call.pointer)
            }
            var node = try PlanStep(step: call, card: card, locals: locals)
            node.sequence = steps[n].sequence
            node.loops = steps[n].loops
            node.undoes = n
            steps.append(node)
            return steps.count - 1
        }
    }

    /// The index of the step with this id.
    public func index(of id: String) -> Int? { indexByID[id] }

    /// Where a step instance's events point: its id, after `ID[i].` for each foreach it is in
    /// (`orders[3].charge`).
    public func address(of ref: StepRef) -> String {
        // Read through the array, not a copy of the step: this runs for every event and every view.
        guard !ref.path.isEmpty else { return steps[ref.node].step.id }
        var text = ""
        for (j, loop) in steps[ref.node].loops.enumerated() { text += "\(steps[loop].step.id)[\(ref.path[j])]." }
        return text + steps[ref.node].step.id
    }

    /// The instance an address names, if it names one of this plan.
    public func ref(_ address: String) -> StepRef? {
        let parts = address.split(separator: ".", omittingEmptySubsequences: false)
        guard let last = parts.last, let n = index(of: String(last)) else { return nil }
        let loops = steps[n].loops
        guard parts.count == loops.count + 1 else { return nil }
        var path: [Int] = []
        for (j, part) in parts.dropLast().enumerated() {
            guard let open = part.firstIndex(of: "["), part.last == "]",
                  part[..<open] == steps[loops[j]].step.id,
                  let k = Int(part[part.index(after: open)..<part.index(before: part.endIndex)]), k >= 0
            else { return nil }
            path.append(k)
        }
        return StepRef(node: n, path: path)
    }
}

/// One list of steps of a plan.
public struct PlanSequence: Sendable {
    /// Its steps, in order (indexes into `Plan.steps`).
    public internal(set) var nodes: [Int]
    /// The block it belongs to; nil for the capsule's own steps.
    public let owner: Int?
}

/// One run of one step: the step, and the iteration it belongs to in each foreach around it (outermost
/// first; empty outside any foreach).
public struct StepRef: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var node: Int
    public var path: [Int]

    public init(node: Int, path: [Int] = []) {
        self.node = node
        self.path = path
    }

    public init(integerLiteral value: Int) { self.init(node: value) }

    public var description: String { path.isEmpty ? "\(node)" : "\(node)\(path)" }
}

/// One step of a plan.
public struct PlanStep: Sendable {
    public let step: Step
    /// As the op's card declares it.
    public let sideEffect: SideEffect
    /// The op applies a call at most once per idempotency key.
    public let idempotent: Bool
    public let timeoutMs: Int64
    public let retry: RetryRule
    /// The input's JSON Schema, checked after rendering.
    public let inputSchema: JSONValue
    /// The input with its templates parsed once.
    public let input: CompiledValue
    /// The input has no template and already passed its schema: nothing to check at each attempt.
    public let inputChecked: Bool
    /// The sequence it sits in.
    public internal(set) var sequence = 0
    /// The foreach steps it is inside, outermost first.
    public internal(set) var loops: [Int] = []
    /// A block's sequences (indexes into `Plan.sequences`): its cases, its body, or its branches.
    public internal(set) var children: [Int] = []
    /// A foreach's `collect` step.
    public internal(set) var collect: Int?
    /// The sequence of its `on_error: {steps}` fallback.
    public internal(set) var fallback: Int?
    /// The step that is its `compensate:` call.
    public internal(set) var compensation: Int?
    /// For a compensation: the step it undoes.
    public internal(set) var undoes: Int?
    /// A paged foreach's fetch step, and its source step (whose output is the first page).
    public internal(set) var pageFetch: Int?
    public internal(set) var pageSource: Int?
    /// For a page fetch: the foreach it fetches for.
    public internal(set) var fetchesFor: Int?
    /// For a paged foreach's source step and its fetch: how the call is paged.
    public internal(set) var paging: Paging?
    /// A paged foreach's steps that run once per iteration (its body's, their fallbacks' and blocks'
    /// without a loop of their own, its page fetch): what it lets go of when an iteration ends.
    public internal(set) var iterationNodes: [Int] = []

    public init(step: Step, card: StepCard, locals: Set<String> = []) throws(RunnerError) {
        self.step = step
        self.sideEffect = card.sideEffect
        self.idempotent = card.idempotent
        self.timeoutMs = step.timeoutMs ?? card.defaultTimeoutMs
        self.retry = step.retry?.rule ?? .default(for: card.effectiveSideEffect)
        self.inputSchema = card.inputSchema
        self.input = try Template.compile(step.input, at: step.pointer.appending("input"), locals: locals)
        if case .constant(let value) = input {
            inputChecked = (try? JSONSchema.validate(value, against: card.inputSchema,
                                                     at: step.pointer.appending("input"))) != nil
        } else {
            inputChecked = false
        }
    }

    /// A control step (`abort`, `set`, a block): the machine decides it alone; nothing is dispatched, nothing
    /// repeats. A set step's values are its input, compiled like one.
    init(control step: Step, locals: Set<String>) throws(RunnerError) {
        self.step = step
        self.sideEffect = .none
        self.idempotent = false
        self.timeoutMs = 0
        self.retry = RetryRule(max: 0)
        self.inputSchema = true
        self.input = try Template.compile(step.templated.value, at: step.templated.pointer, locals: locals)
        self.inputChecked = true
    }

    /// The step's `layer` in views: nil for a control step, which calls none.
    public var viewLayer: String? { step.isControl ? nil : step.layer }
    /// The step's `op` in views: `abort`, `set`, `switch`, `foreach` or `parallel` for a control step.
    public var viewOp: String {
        step.abort != nil ? "abort" : step.set != nil ? "set" : step.block?.kind ?? step.op
    }

    /// Its id: the address of its one run outside any foreach (`Plan.address(of:)` gives any run's).
    public var address: String { step.id }

    /// A crash during the call may be answered by calling again: the op is repeatable, or idempotent under
    /// the step's key. Otherwise an attempt in flight at a crash is `unknown`.
    public var safeToRepeat: Bool { sideEffect.isRepeatable || idempotent }

    /// How the dispatch of an attempt is journaled before the call goes out: a step that must not run twice
    /// waits until its dispatch is on disk; an idempotent write is journaled with the next group (so that a
    /// restart shows it was interrupted); a repeatable step not at all — its result says when it was sent.
    public var dispatchDurability: Durability? {
        if sideEffect.isRepeatable { return nil }
        return idempotent ? .group : .durable
    }

    /// The key of every attempt of a `write`/`external` step: the same across attempts and restarts, so
    /// that an idempotent op applies the step once.
    public func idempotencyKey(execution id: String, address: String? = nil) -> String? {
        sideEffect.isRepeatable ? nil : "\(id)/\(address ?? step.id)/1"
    }
}
