import JALMCore

/// Where included fragments are read from: the capsules folder in jalmd and `jalm lint` (`CapsuleFolder`);
/// stored capsules (issue 15) will be another. The resolver around it is pure, so that its tests read real
/// temporary folders and nothing else.
public protocol FragmentSource: Sendable {
    /// The file at `path` (relative, without `..`: `IncludeTarget` checked it), at most `limit` bytes.
    /// Failures are `invalid_input` without a pointer; the resolver says where the path was named.
    func read(_ path: String, limit: Int) throws(RunnerError) -> FragmentFile
}

/// A fragment file's bytes, and the name that identifies it whatever path reached it (cycles are found by it).
public struct FragmentFile: Sendable, Hashable {
    /// The file's real path, relative to the source's folder: `fragments/auth.yml`.
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// A source with no fragments, for a runner that was given no capsules folder: every include is refused.
public struct NoFragments: FragmentSource {
    public init() {}

    public func read(_ path: String, limit: Int) throws(RunnerError) -> FragmentFile {
        throw RunnerError(.invalidInput, "includes are not available here: no capsules folder is configured")
    }
}
