/// How strictly layer processes are confined (config `sandbox:`).
public enum SandboxMode: String, Sendable, CaseIterable {
    /// Every layer starts through jalm-launch with its policy and cgroup limits, or does not start.
    case enforce
    /// As enforce, but a layer whose cgroup limits cannot be applied starts without them, loudly.
    case degraded
    /// Plugins start directly, unconfined: for development and for the tests' sandbox-off twins.
    case off
}
