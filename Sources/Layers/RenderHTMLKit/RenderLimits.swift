import JALMWire

/// The bounds of one render-html process: `layers: {render-html: {...}}` in jalmd.yml (each key
/// optional). A step may ask for less (the same key in its input), never for more.
struct RenderLimits: Sendable, Equatable {
    /// Bytes of template text in one render: the template and every partial it loads (256 KiB).
    var maxTemplateBytes = 256 * 1024
    /// Bytes of HTML one call may return (4 MiB).
    var maxOutputBytes = 4 * 1024 * 1024
    /// Partials included inside partials, counting the first; recursion stops here (16).
    var maxPartialDepth = 16
    /// Distinct partials one render may load (64).
    var maxPartials = 64
    /// Sections nested inside one template (swift-mustache's parser recurses once per level) (64).
    var maxSectionNesting = 64
    /// Bytes of Markdown one `markdown` call may convert (64 KiB): Ink is super-linear on some
    /// adversarial text (long runs of emphasis markers), so this bound is also its time bound.
    var maxMarkdownBytes = 64 * 1024
    /// How deep Markdown may nest: `[` brackets (links, images) open at once, and lines indented by more
    /// than 32 times this many whitespace characters (nested lists) are refused. Ink recurses once
    /// per level, has no limit of its own (5,000 `[` overflow its stack) and backtracks: its time doubles
    /// with each `[` open at once (4).
    var maxMarkdownNesting = 4

    /// The hard ceilings a configuration may not pass: beyond them the plugin's stack or its cgroup
    /// memory (plugins/render-html/plugin.yml) would be at risk.
    static let ceilings = RenderLimits(
        maxTemplateBytes: 4 * 1024 * 1024, maxOutputBytes: 32 * 1024 * 1024, maxPartialDepth: 64,
        maxPartials: 1024, maxSectionNesting: 256, maxMarkdownBytes: 1024 * 1024, maxMarkdownNesting: 8)

    nonisolated(unsafe) static let keys: [(String, WritableKeyPath<RenderLimits, Int>)] = [
        ("max_template_bytes", \.maxTemplateBytes), ("max_output_bytes", \.maxOutputBytes),
        ("max_partial_depth", \.maxPartialDepth), ("max_partials", \.maxPartials),
        ("max_section_nesting", \.maxSectionNesting), ("max_markdown_bytes", \.maxMarkdownBytes),
        ("max_markdown_nesting", \.maxMarkdownNesting),
    ]

    /// Reads the layer's settings; unknown keys and values out of range stop the plugin at start.
    static func from(config: JSONValue) throws(ConfigError) -> RenderLimits {
        var limits = RenderLimits()
        guard let fields = config.objectValue else { throw ConfigError("layers.render-html must be an object") }
        let known = Set(keys.map(\.0))
        if let unknown = fields.keys.filter({ !known.contains($0) }).sorted().first {
            throw ConfigError("layers.render-html: unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        for (key, path) in keys {
            guard let value = fields[key] else { continue }
            let ceiling = ceilings[keyPath: path]
            guard let n = value.intValue.flatMap({ Int(exactly: $0) }), n >= 1, n <= ceiling else {
                throw ConfigError("layers.render-html.\(key) must be an integer from 1 to \(ceiling)")
            }
            limits[keyPath: path] = n
        }
        return limits
    }
}

struct ConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
