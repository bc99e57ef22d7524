/// The fixed bounds of io-file: ceilings the settings (`IOFileSettings`) cannot raise, and the sizes of
/// things no operator needs to tune.
enum IOFileLimits {
    /// The largest `max_read_bytes` / `max_write_bytes` a setting or a call may name: 64 MiB. Content
    /// travels in one frame, so more would not fit through the kernel anyway.
    static let maxMaxBytes = 64 * 1024 * 1024
    /// Longest path accepted, in UTF-8 bytes (PATH_MAX).
    static let maxPathBytes = 4096
    /// Deepest directory nesting a recursive delete descends; each level holds one descriptor.
    static let maxDeleteDepth = 256
    /// The deepest `depth` a recursive `list` may ask for (each level holds one descriptor).
    static let maxListDepth = 64
    /// The prefix of the temp files atomic writes make; `list` never shows them and start-up sweeps
    /// the ones whose writer died.
    static let tempPrefix = ".jalm-tmp-"
}
