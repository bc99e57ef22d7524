import JALMWire

/// The operator's bounds for io-file, from `layers: {io-file: {...}}` in jalmd.yml (`LayerSetup.config`).
/// A call may ask for less than a bound (its own `max_bytes`, `max_rows`, `limit`), never for more.
struct IOFileSettings: Sendable, Equatable {
    /// Largest file `read`, `csv.read` and `json.read` accept, in bytes (`max_read_bytes`, default 10 MiB).
    var maxReadBytes = 10 * 1024 * 1024
    /// Largest content `write`, `append` and `csv.write` accept, in bytes (`max_write_bytes`, default 10 MiB).
    var maxWriteBytes = 10 * 1024 * 1024
    /// Largest file `copy` and `checksum` handle (`max_stream_bytes`, default 1 GiB); they stream through a
    /// small buffer, so this bounds time and disk, not memory.
    var maxStreamBytes = 1024 * 1024 * 1024
    /// Entries one `list` page returns at most (`max_list_entries`, default 10,000).
    var maxListEntries = 10_000
    /// Entries one `list` may visit while walking, before paging and glob (`max_list_scan`, default 100,000).
    var maxListScan = 100_000
    /// Rows `csv.read` returns and `csv.write` accepts at most (`max_csv_rows`, default 100,000).
    var maxCSVRows = 100_000
    /// Whether files with more than one hard link may be read, appended to, copied or checksummed
    /// (`allow_hardlinks`, default false): the other link may be outside the root, where neither
    /// openat2 nor Landlock can see it.
    var allowHardlinks = false

    init() {}

    /// The settings in `config`; an unknown key or a value out of range stops the layer at start.
    init(config: JSONValue) throws(SettingsError) {
        guard let fields = config.objectValue else {
            throw SettingsError("layers.io-file must be a mapping, not \(config.typeName)")
        }
        let known = ["max_read_bytes", "max_write_bytes", "max_stream_bytes", "max_list_entries", "max_list_scan",
                     "max_csv_rows", "allow_hardlinks"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw SettingsError("layers.io-file: unknown key \"\(unknown)\" (known: \(known.joined(separator: ", ")))")
        }
        func int(_ key: String, _ range: ClosedRange<Int>, _ fallback: Int) throws(SettingsError) -> Int {
            guard let value = fields[key], !value.isNull else { return fallback }
            guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
                throw SettingsError("layers.io-file.\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        maxReadBytes = try int("max_read_bytes", 0...IOFileLimits.maxMaxBytes, maxReadBytes)
        maxWriteBytes = try int("max_write_bytes", 0...IOFileLimits.maxMaxBytes, maxWriteBytes)
        maxStreamBytes = try int("max_stream_bytes", 0...Int(Int64.max / 2), maxStreamBytes)
        maxListEntries = try int("max_list_entries", 1...1_000_000, maxListEntries)
        maxListScan = try int("max_list_scan", 1...10_000_000, maxListScan)
        maxCSVRows = try int("max_csv_rows", 1...10_000_000, maxCSVRows)
        if let value = fields["allow_hardlinks"], !value.isNull {
            guard let b = value.boolValue else { throw SettingsError("layers.io-file.allow_hardlinks must be a boolean") }
            allowHardlinks = b
        }
    }
}

/// `layers.io-file` in jalmd.yml is not valid; the plugin does not start.
struct SettingsError: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
