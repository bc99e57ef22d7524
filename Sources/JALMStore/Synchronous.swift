/// How hard the writer pushes each group commit to disk (`PRAGMA synchronous`).
public enum Synchronous: String, Sendable, Hashable, CaseIterable {
    /// fsync at every commit: a commit that returned survives power loss. The default.
    case full
    /// In WAL mode, fsync only at checkpoints: a commit survives a crash of jalmd but may be lost with the
    /// machine. About 75 times as many commits per second on the reference disk.
    case normal

    var pragma: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        }
    }
}
