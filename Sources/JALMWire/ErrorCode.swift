/// The closed set of error codes a step can end with, on the wire and in the API.
public enum ErrorCode: String, Sendable, Hashable, CaseIterable, Codable {
    /// The capsule or a step input is wrong; retrying the same input cannot help.
    case invalidInput = "invalid_input"
    /// A named thing (execution, file, layer, op) does not exist.
    case notFound = "not_found"
    /// A deadline passed before the work finished.
    case timeout
    /// Someone asked for the work to stop.
    case cancelled
    /// No process of the layer can take the call (restarting, quarantined, draining).
    case layerUnavailable = "layer_unavailable"
    /// A peer broke the wire protocol; its process is restarted.
    case protocolError = "protocol_error"
    /// The sandbox stopped the work (a denied syscall, a path outside the policy).
    case sandboxViolation = "sandbox_violation"
    /// A limit was reached (memory, pids, output size, frame size, queue).
    case resourceExhausted = "resource_exhausted"
    /// A remote service answered with an error.
    case upstreamError = "upstream_error"
    /// The request conflicts with the current state (already finished, already exists).
    case conflict
    /// A step's output broke one of the capsule's `expected_outputs`.
    case assertionFailed = "assertion_failed"
    /// A fault of the runner itself; a bug to report.
    case `internal`
    /// The step was in flight when the kernel died and its side effect cannot be repeated safely.
    case unknown

    /// Whether trying again, unchanged, may succeed.
    public var retryable: Bool {
        switch self {
        // A limit met by an input is met again by the same input: resource_exhausted is not retryable.
        case .timeout, .layerUnavailable, .protocolError, .upstreamError: true
        default: false
        }
    }
}
