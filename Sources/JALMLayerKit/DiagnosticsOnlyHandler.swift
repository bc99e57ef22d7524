import JALMWire

/// The handler of a layer whose real ops have not landed yet: it announces only LayerKit's `sys.*` ops,
/// so the kernel rejects a capsule that names any other op with a clear 422 rather than a stub answer.
public struct DiagnosticsOnlyHandler: LayerHandler {
    public init() {}
    public var ops: [String] { [] }
    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        throw CallFailure(.notFound, "unknown op \"\(op)\"")
    }
}
