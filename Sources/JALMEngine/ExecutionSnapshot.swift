import JALMCore
import JALMWire

/// An execution as it stood when asked: what `GET /exec/{id}`, `?wait=` and a cancel answer with. It holds
/// the machine (a cheap copy) and makes the view only when it is written out, on the asking thread.
public struct ExecutionSnapshot: Sendable {
    let header: ExecutionView.Header
    let machine: ExecutionMachine?
    /// For a stored execution whose capsule cannot be planned any more: its summary.
    let summary: JSONValue?

    init(_ header: ExecutionView.Header, machine: ExecutionMachine) {
        self.header = header
        self.machine = machine
        self.summary = nil
    }

    init(_ header: ExecutionView.Header, summary: JSONValue) {
        self.header = header
        self.machine = nil
        self.summary = summary
    }

    public var id: String { header.id }

    public var state: ExecutionState {
        if let machine { return machine.state.phase.state }
        return summary?["state"]?.stringValue.flatMap(ExecutionState.init(rawValue:)) ?? .failed
    }

    /// The view as a value (for the CLI's tests and anything that reads fields).
    public var json: JSONValue {
        if let machine { return ExecutionView.json(header, machine: machine) }
        return summary ?? .null
    }

    /// The view as JSON bytes, keys sorted; with `executionID`, also `execution_id` (what `POST /exec` answers).
    public func bytes(executionID: Bool = false) -> [UInt8] {
        if let machine { return ExecutionView.bytes(header, machine: machine, executionID: executionID) }
        var view = summary ?? .null
        if executionID, case .object(var o) = view {
            o["execution_id"] = .string(header.id)
            view = .object(o)
        }
        return JSONWriter.bytes(view, sortedKeys: true)
    }
}
