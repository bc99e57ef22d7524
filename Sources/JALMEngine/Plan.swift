import JALMCapsule
import JALMCore
import JALMStore
import JALMWire

/// A checked capsule compiled for running: each step with what the catalog says about its op, resolved
/// once, so that the machine decides without looking anything up.
public struct Plan: Sendable {
    public let capsule: Capsule
    public let steps: [PlanStep]
    /// Some step assigns vars: the vars a step sees then depend on the steps before it.
    public let hasSetSteps: Bool

    /// Fails with `not_found` when a step names an op the catalog does not have (the validator refuses such a
    /// capsule first; a journal written by an older catalog can still hold one).
    public init(capsule: Capsule, catalog: Catalog) throws(RunnerError) {
        self.capsule = capsule
        self.hasSetSteps = capsule.steps.contains { $0.set != nil }
        var steps: [PlanStep] = []
        for step in capsule.steps {
            if step.isControl {
                steps.append(try PlanStep(control: step))
                continue
            }
            guard let card = catalog.card(layer: step.layer, op: step.op) else {
                throw RunnerError(.notFound, "no op \(step.layer).\(step.op) in the catalog", at: step.pointer)
            }
            steps.append(try PlanStep(step: step, card: card))
        }
        self.steps = steps
    }

    /// The index of the step with this address.
    public func index(of address: String) -> Int? { steps.firstIndex { $0.address == address } }
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

    public init(step: Step, card: StepCard) throws(RunnerError) {
        self.step = step
        self.sideEffect = card.sideEffect
        self.idempotent = card.idempotent
        self.timeoutMs = step.timeoutMs ?? card.defaultTimeoutMs
        self.retry = step.retry?.rule ?? .default(for: card.effectiveSideEffect)
        self.inputSchema = card.inputSchema
        self.input = try Template.compile(step.input, at: step.pointer.appending("input"))
        if case .constant(let value) = input {
            inputChecked = (try? JSONSchema.validate(value, against: card.inputSchema,
                                                     at: step.pointer.appending("input"))) != nil
        } else {
            inputChecked = false
        }
    }

    /// A control step (`abort`, `set`): the machine decides it alone; nothing is dispatched, nothing
    /// repeats. A set step's values are its input, compiled like one.
    init(control step: Step) throws(RunnerError) {
        self.step = step
        self.sideEffect = .none
        self.idempotent = false
        self.timeoutMs = 0
        self.retry = RetryRule(max: 0)
        self.inputSchema = true
        self.input = try Template.compile(step.templated.value, at: step.templated.pointer)
        self.inputChecked = true
    }

    /// The step's `layer` in views: nil for a control step, which calls none.
    public var viewLayer: String? { step.isControl ? nil : step.layer }
    /// The step's `op` in views: `abort` or `set` for a control step.
    public var viewOp: String { step.abort != nil ? "abort" : step.set != nil ? "set" : step.op }

    /// Where the step's events point: its id (`charge`; nested addresses come with nested nodes).
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
    public func idempotencyKey(execution id: String) -> String? {
        sideEffect.isRepeatable ? nil : "\(id)/\(step.id)/1"
    }
}
