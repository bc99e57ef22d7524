import JALMCore
import JALMWire

/// What the catalog says about one op: its side effect, default timeout, schemas and examples
/// (`kernel/step_cards/<layer>.<op>.yml`).
public struct StepCard: Sendable, Hashable {
    public var layer: String
    public var op: String
    public var summary: String
    public var sideEffect: SideEffect
    public var ioType: String
    /// The timeout of a step that does not state its own.
    public var defaultTimeoutMs: Int64
    public var inputSchema: JSONValue
    public var outputSchema: JSONValue
    public var examples: [StepExample]
    /// The op applies a call at most once per idempotency key (the layer or its receiver deduplicates), so
    /// a `write`/`external` step of it may be retried, and re-run after a crash, with the same key.
    public var idempotent = false

    public init(layer: String, op: String, summary: String, sideEffect: SideEffect, ioType: String,
                defaultTimeoutMs: Int64, inputSchema: JSONValue, outputSchema: JSONValue,
                examples: [StepExample] = []) {
        self.layer = layer
        self.op = op
        self.summary = summary
        self.sideEffect = sideEffect
        self.ioType = ioType
        self.defaultTimeoutMs = defaultTimeoutMs
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.examples = examples
    }

    /// `layer.op`, as atoms.csv names it.
    public var qualifiedName: String { "\(layer).\(op)" }

    /// The side effect that decides retries and crash recovery: an idempotent op is as safe to repeat
    /// as a read, since every attempt carries the same key.
    public var effectiveSideEffect: SideEffect { idempotent && !sideEffect.isRepeatable ? .read : sideEffect }

    /// The card as `GET /catalog` serves it.
    public var json: JSONValue {
        [
            "name": .string(qualifiedName), "layer": .string(layer), "op": .string(op), "summary": .string(summary),
            "side_effect": .string(sideEffect.rawValue), "io_type": .string(ioType),
            "timeout_ms": .int(defaultTimeoutMs), "idempotent": .bool(idempotent), "input": inputSchema, "output": outputSchema,
            "examples": .array(examples.map(\.json)),
        ]
    }
}

/// One of the six layers, as `kernel/layers.json` describes it.
public struct LayerInfo: Sendable, Hashable {
    public var name: String
    public var summary: String
    /// `none` or `outbound`.
    public var network: String
    /// The op a step of this layer runs when it names none (`default_op` in layers.json; io-http: `request`).
    public var defaultOp: String?
    /// The entry as written, with any further fields, for `GET /catalog`.
    public var json: JSONValue

    public init(name: String, summary: String = "", network: String = "none", defaultOp: String? = nil,
                json: JSONValue? = nil) {
        self.name = name
        self.summary = summary
        self.network = network
        self.defaultOp = defaultOp
        var fallback: [String: JSONValue] = ["name": .string(name), "summary": .string(summary), "network": .string(network)]
        if let defaultOp { fallback["default_op"] = .string(defaultOp) }
        self.json = json ?? .object(fallback)
    }
}
