/// The bounds on one expression: its source, its nesting, and what one evaluation may spend.
///
/// Every limit is named as it appears in settings and errors (`max_steps`, ...), so that a
/// `resource_exhausted` error says which one to raise.
public struct ExprLimits: Sendable, Hashable {
    /// Evaluation steps: one per node evaluated, plus one per element a function walks (`max_steps`).
    public var maxSteps: Int
    /// Bytes of values the evaluation builds, summed over the whole evaluation (`max_memory_bytes`):
    /// a string counts its UTF-8 bytes, an array or object 16 bytes per element plus its keys.
    /// Values read from the data are not counted; only what the expression creates.
    public var maxMemoryBytes: Int
    /// Longest source accepted, in UTF-8 bytes (`max_source_bytes`).
    public var maxSourceBytes: Int
    /// Deepest nesting of the syntax tree: parentheses, calls, lambdas, operators (`max_depth`).
    /// Evaluation recursion follows the tree, so this also bounds the native stack.
    public var maxDepth: Int

    public init(maxSteps: Int = 100_000, maxMemoryBytes: Int = 1 << 20, maxSourceBytes: Int = 8192,
                maxDepth: Int = 64) {
        self.maxSteps = maxSteps
        self.maxMemoryBytes = maxMemoryBytes
        self.maxSourceBytes = maxSourceBytes
        self.maxDepth = maxDepth
    }

    /// The defaults: 100,000 steps, 1 MiB built, 8 KiB of source, depth 64.
    public static let standard = ExprLimits()
}
