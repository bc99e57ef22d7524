/// The environment a plugin process is started with: the names the kernel sets and the plugins read,
/// defined once here so that the two sides cannot drift apart (a plugin in another language reads the
/// same names: plugins/examples/python-echo).
public enum SpawnEnvironment {
    /// The socket to the kernel: the fd number, always `channelFD`.
    public static let fd = "JALM_FD"
    /// The fd the spawn shim puts the plugin's end of the socketpair on.
    public static let channelFD: Int32 = 3
    /// The layer's name.
    public static let layer = "JALM_LAYER"
    /// The daemon's data folder.
    public static let data = "JALM_DATA"
    /// The largest frame either side may send, bytes.
    public static let maxFrame = "JALM_MAX_FRAME"
    /// Calls one process runs at once (the manifest's `max_inflight`).
    public static let maxInflight = "JALM_MAX_INFLIGHT"
    /// The layer's settings (`layers.<name>` of jalmd.yml, secrets resolved), as one JSON value.
    public static let layerConfig = "JALM_LAYER_CONFIG"
    /// io-file's root instead of `<data>/files`; set in a manifest's `env:`, never by the kernel.
    public static let filesRoot = "JALM_FILES_ROOT"
    /// render-html's templates folder instead of `<data>/templates`; set in a manifest's `env:` (tests).
    public static let templatesRoot = "JALM_TEMPLATES_ROOT"
}
