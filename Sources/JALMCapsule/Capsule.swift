import JALMCore
import JALMExpr
import JALMWire

/// A parsed capsule: an intent and its steps, with every field's place in the submitted document kept
/// so that later errors can point at it.
public struct Capsule: Sendable, Hashable {
    /// What the capsule is for, in a person's words; "unnamed" when the capsule does not say.
    public var intent: String
    /// Values the steps may use through `{{ vars.NAME }}`.
    public var vars: [String: JSONValue]
    /// Names of secrets the capsule asks for (resolved by a later part of the runner).
    public var secretNames: [String]
    /// The steps, in document order.
    public var steps: [Step]
    /// The `meta` object, or `.null` when absent.
    public var meta: JSONValue
    /// `meta.timeout` and `meta.max_steps`.
    public var limits = ExecutionLimits()
    /// The capsule object as submitted (inside the `jalm_config` wrapper when there was one).
    public var document: JSONValue
    /// Where the capsule object sits in the submitted document: `""`, or `/jalm_config`.
    public var basePointer: JSONPointer

    public init(intent: String, vars: [String: JSONValue] = [:], secretNames: [String] = [], steps: [Step],
                meta: JSONValue = .null, document: JSONValue, basePointer: JSONPointer = .root) {
        self.intent = intent
        self.vars = vars
        self.secretNames = secretNames
        self.steps = steps
        self.meta = meta
        self.document = document
        self.basePointer = basePointer
    }

    /// The step with this id, at any depth, if any.
    public func step(id: String) -> Step? {
        allSteps.first { $0.id == id }
    }

    /// Every step, those inside blocks too, in document order.
    public var allSteps: [Step] {
        var out: [Step] = []
        for step in steps { out.append(step); out += step.descendants }
        return out
    }
}

/// One step of a capsule: a call of `op` on `layer` with `input`.
public struct Step: Sendable, Hashable {
    /// Position in its sequence (`steps`, or a block's), from 0.
    public var index: Int
    public var id: String
    public var layer: String
    public var op: String
    /// The input as written, templates not yet rendered; `{}` when the step has none.
    public var input: JSONValue
    /// The step's own timeout; nil means the card's default.
    public var timeoutMs: Int64?
    /// The step's own retry rule; nil means the default for the op's side effect.
    public var retry: RetrySpec?
    /// The step's `when:` condition (docs/capsules.md): the step runs only when it is true.
    public var when: Expression?
    /// What a failure that is not retried any more does to the execution.
    public var onError: OnError = .fail
    /// What the output must look like for the step to count as ok (`expected_outputs:`).
    public var expectedOutputs: [OutputExpectation] = []
    /// A control step that ends the execution (`abort:`): it calls no layer, and `layer` and `op` are empty.
    public var abort: AbortSpec?
    /// A control step that assigns vars for the steps after it (`set:`), values as written (templates not
    /// rendered); it calls no layer either.
    public var set: [String: JSONValue]?
    /// A step that holds steps (`switch`, `foreach`, `parallel`); it calls no layer.
    public var block: Block?
    /// The call that undoes this step (`compensate:`), registered when the step ends ok and run when the
    /// execution fails, is aborted or is cancelled.
    public var compensation: Compensation?

    /// `abort`, `set` or a block: decided by the machine, with no layer.
    public var isControl: Bool { abort != nil || set != nil || block != nil }

    /// The values whose templates the step renders, and where they are: `input`, or a set step's values.
    public var templated: (value: JSONValue, pointer: JSONPointer) {
        if let set { return (.object(set), pointer.appending("set")) }
        if let abort { return (["message": .string(abort.message)], pointer.appending("abort")) }
        if case .foreach(let f)? = block { return (f.items, pointer.appending("foreach")) }
        if block != nil { return (.object([:]), pointer) }
        return (input, pointer.appending("input"))
    }
    /// Where the step is in the submitted document, e.g. `/steps/2`.
    public var pointer: JSONPointer

    public init(index: Int, id: String, layer: String, op: String, input: JSONValue = .object([:]),
                timeoutMs: Int64? = nil, retry: RetrySpec? = nil, when: Expression? = nil, pointer: JSONPointer) {
        self.index = index
        self.id = id
        self.layer = layer
        self.op = op
        self.input = input
        self.timeoutMs = timeoutMs
        self.retry = retry
        self.when = when
        self.pointer = pointer
    }

    /// `layer.op`, as atoms.csv and plugin handshakes name an op.
    public var qualifiedOp: String { "\(layer).\(op)" }
}

/// An `abort:` step: when it is reached (and its `when` holds), the execution ends `failed` with this
/// error.
public struct AbortSpec: Sendable, Hashable {
    public var message: String
    public var code: ErrorCode

    public init(message: String, code: ErrorCode = .conflict) {
        self.message = message
        self.code = code
    }
}

/// A step's `on_error:`.
public enum OnError: Sendable, Hashable {
    /// The execution fails (the default).
    case fail
    /// The step ends in its error state and the execution goes on; later steps read
    /// `$.steps.ID.state` and `$.steps.ID.error`.
    case `continue`
    /// A fallback sequence (`on_error: {steps: [...]}`) runs; its last output stands in for the step's, and
    /// if it fails, the step fails with its error.
    case fallback([Step])

    /// The fallback sequence, if this is one.
    public var fallback: [Step]? {
        if case .fallback(let steps) = self { steps } else { nil }
    }
}

/// A step's `compensate:`: an op call, shaped like a step without an id, that undoes what the step did.
public struct Compensation: Sendable, Hashable {
    public var layer: String
    public var op: String
    public var input: JSONValue
    public var timeoutMs: Int64?
    public var retry: RetrySpec?
    /// Where `compensate` is: `/steps/2/compensate`.
    public var pointer: JSONPointer

    public init(layer: String, op: String, input: JSONValue, timeoutMs: Int64? = nil, retry: RetrySpec? = nil,
                pointer: JSONPointer) {
        self.layer = layer
        self.op = op
        self.input = input
        self.timeoutMs = timeoutMs
        self.retry = retry
        self.pointer = pointer
    }

    /// The id a compensation's run is shown and journaled by: its step's, with this after it. No step id can
    /// hold a colon, so it never meets one.
    public static let idSuffix = ":compensate"

    /// The compensation as a step of its own, the one `undone` names.
    public func step(undoing undone: Step) -> Step {
        Step(index: undone.index, id: undone.id + Self.idSuffix, layer: layer, op: op, input: input,
             timeoutMs: timeoutMs, retry: retry, pointer: pointer)
    }
}

/// A step's `retry:` object with its defaults applied.
public struct RetrySpec: Sendable, Hashable {
    /// Attempts after the first.
    public var max: Int
    public var baseMs: Int64
    public var factor: Double
    public var maxDelayMs: Int64
    /// 0...1: the share of each delay that is random.
    public var jitter: Double
    /// Codes that may be retried; nil means every retryable code.
    public var retryOn: Set<ErrorCode>?

    public init(max: Int, baseMs: Int64 = 200, factor: Double = 2, maxDelayMs: Int64 = 30_000, jitter: Double = 0.2,
                retryOn: Set<ErrorCode>? = nil) {
        self.max = max
        self.baseMs = baseMs
        self.factor = factor
        self.maxDelayMs = maxDelayMs
        self.jitter = jitter
        self.retryOn = retryOn
    }

    /// The same rule in the form JALMCore's retry decisions take.
    public var rule: RetryRule {
        RetryRule(max: max, base: .milliseconds(baseMs), factor: factor, maxDelay: .milliseconds(maxDelayMs),
                  jitter: jitter, retryOn: retryOn)
    }
}
