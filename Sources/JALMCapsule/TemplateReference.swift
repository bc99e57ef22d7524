import JALMWire

/// One step of a path into a JSON value: `.rows[0].name` is key rows, index 0, key name.
public enum PathComponent: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let k): ".\(k)"
        case .index(let i): "[\(i)]"
        }
    }
}

/// A `{{ ... }}` found in a step's input: what it refers to and where it was written.
public struct TemplateReference: Sendable, Hashable {
    /// What a template starts from.
    public enum Root: Sendable, Hashable {
        /// `steps.ID.output`: the output of an earlier step.
        case steps(String)
        /// `vars.NAME`: a capsule variable.
        case vars(String)
        /// `secrets.NAME`: a secret the capsule declares in `secrets:`, resolved by the kernel at dispatch.
        case secrets(String)
        /// `item`, `index` or a foreach's `as` name: the iteration's item or place, inside a foreach.
        case local(String)
    }

    /// The string value holding the template.
    public var pointer: JSONPointer
    public var root: Root
    /// The path below the root (below `output` for steps).
    public var path: [PathComponent]
    /// The template as written, braces included, for messages.
    public var text: String

    public init(pointer: JSONPointer, root: Root, path: [PathComponent], text: String) {
        self.pointer = pointer
        self.root = root
        self.path = path
        self.text = text
    }
}

/// What templates render from.
public struct TemplateContext: Sendable {
    public var vars: [String: JSONValue]
    /// Step id → that step's output, for the steps that have finished.
    public var stepOutputs: [String: JSONValue]
    /// Secret name → value, for the secrets the capsule declares (only when rendering a call's input).
    public var secrets: [String: String]
    /// Inside a foreach: the item by its name and `index`, for each loop the step is in (the innermost wins).
    public var locals: [String: JSONValue]

    public init(vars: [String: JSONValue] = [:], stepOutputs: [String: JSONValue] = [:], secrets: [String: String] = [:],
                locals: [String: JSONValue] = [:]) {
        self.vars = vars
        self.stepOutputs = stepOutputs
        self.secrets = secrets
        self.locals = locals
    }
}
