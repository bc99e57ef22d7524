/// The bounds io-file puts on what one call may read, write or list.
enum IOFileLimits {
    /// `max_bytes` when the input does not say: 10 MiB.
    static let defaultMaxBytes = 10 * 1024 * 1024
    /// The largest `max_bytes` a call may ask for: 64 MiB.
    static let maxMaxBytes = 64 * 1024 * 1024
    /// Entries `list` returns at most; a larger directory is `resource_exhausted`.
    static let maxListEntries = 10_000
    /// Longest path accepted, in UTF-8 bytes (PATH_MAX).
    static let maxPathBytes = 4096
    /// Deepest directory nesting a recursive delete descends; each level holds one descriptor.
    static let maxDeleteDepth = 256
}
