/// Limits of the engine; every value is named in the config.
public struct EngineSettings: Sendable {
    /// How long a shutdown waits for running executions before leaving them to resume at next start.
    public var drainTimeout: Duration = .seconds(30)
    public init() {}
}
