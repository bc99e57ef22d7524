/// How a layer's processes are restarted, and when a layer is given up on.
public struct RestartPolicy: Sendable, Equatable {
    /// More restarts than this within `window` quarantines the layer.
    public var maxRestarts: Int
    public var window: Duration
    /// The first restart waits `baseDelay`; each consecutive failure doubles it, up to `maxDelay`.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// A process that ran this long without failing resets the doubling.
    public var stableAfter: Duration

    public init(maxRestarts: Int = 5, window: Duration = .seconds(60), baseDelay: Duration = .milliseconds(100),
                maxDelay: Duration = .seconds(30), stableAfter: Duration = .seconds(10)) {
        self.maxRestarts = maxRestarts
        self.window = window
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.stableAfter = stableAfter
    }

    /// The wait before restart number `consecutive` (1-based).
    public func delay(consecutive: Int) -> Duration {
        var d = baseDelay
        for _ in 1..<max(consecutive, 1) {
            d = d * 2
            if d >= maxDelay { return maxDelay }
        }
        return min(d, maxDelay)
    }
}
