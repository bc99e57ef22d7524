import JALMWire

/// One named database of the layer settings (`layers.io-db.databases.NAME` in jalmd.yml).
///
/// A capsule names a database, never a path or a URL: where the data lives is the operator's choice,
/// made here. `main` (SQLite, `<data>/db/main.sqlite`) exists without any settings.
struct DatabaseSettings: Sendable, Equatable {
    enum Engine: Sendable, Equatable {
        /// A file beneath `<data>/db/`, named by `file` (default `<NAME>.sqlite`).
        case sqlite(file: String)
        /// A libpq connection string (`dsn`, usually `{secret: NAME}`).
        case postgres(dsn: String)
    }

    var name: String
    var engine: Engine
    /// Writes are refused (SQLite opened read-only with `query_only`; PostgreSQL read-only transactions).
    var readOnly: Bool
    /// SQLite: how long a writer waits for another's lock before `SQLITE_BUSY` (`busy_timeout_ms`).
    var busyTimeoutMs: Int
    /// PostgreSQL: connections kept per database (`pool`).
    var poolSize: Int

    static let defaultBusyTimeoutMs = 5_000
    static let defaultPoolSize = 4
    static let maxPoolSize = 32

    /// The database that exists out of the box.
    static let main = DatabaseSettings(name: "main", engine: .sqlite(file: "main.sqlite"), readOnly: false,
                                       busyTimeoutMs: defaultBusyTimeoutMs, poolSize: 1)

    /// Every database the settings declare, plus `main` unless they redefine it.
    static func parse(_ config: JSONValue) throws(SettingsError) -> [String: DatabaseSettings] {
        var result = ["main": main]
        guard let layer = config.objectValue else { throw SettingsError("layers.io-db must be an object") }
        if let unknown = layer.keys.first(where: { $0 != "databases" }) {
            throw SettingsError("layers.io-db: unknown key \"\(unknown)\" (allowed: databases)")
        }
        guard let databases = layer["databases"] else { return result }
        guard let entries = databases.objectValue else { throw SettingsError("layers.io-db.databases must be an object") }
        for (name, value) in entries {
            result[name] = try parseOne(name: name, value)
        }
        return result
    }

    static let keys: Set<String> = ["engine", "file", "dsn", "read_only", "busy_timeout_ms", "pool"]

    private static func parseOne(name: String, _ value: JSONValue) throws(SettingsError) -> DatabaseSettings {
        let at = "layers.io-db.databases.\(name)"
        guard isValidName(name) else {
            throw SettingsError("\(at): a database name is 1 to 64 letters, digits, \"_\" or \"-\"")
        }
        guard let fields = value.objectValue else { throw SettingsError("\(at) must be an object") }
        if let unknown = fields.keys.filter({ !keys.contains($0) }).sorted().first {
            throw SettingsError("\(at): unknown key \"\(unknown)\" (allowed: \(keys.sorted().joined(separator: ", ")))")
        }
        let readOnly = try bool(fields["read_only"], at: at + ".read_only")
        let busy = try int(fields["busy_timeout_ms"], default: defaultBusyTimeoutMs, in: 0...600_000, at: at + ".busy_timeout_ms")
        let pool = try int(fields["pool"], default: defaultPoolSize, in: 1...maxPoolSize, at: at + ".pool")
        switch fields["engine"]?.stringValue ?? "sqlite" {
        case "sqlite":
            guard fields["dsn"] == nil else { throw SettingsError("\(at).dsn is for engine postgres") }
            let file = fields["file"]?.stringValue ?? name + ".sqlite"
            guard isValidFileName(file) else {
                throw SettingsError("\(at).file must be a plain file name beneath <data>/db (no \"/\", not \".\" or \"..\")")
            }
            return DatabaseSettings(name: name, engine: .sqlite(file: file), readOnly: readOnly,
                                    busyTimeoutMs: busy, poolSize: 1)
        case "postgres":
            guard let dsn = fields["dsn"]?.stringValue, !dsn.isEmpty else {
                throw SettingsError("\(at).dsn is required for engine postgres (write it as {secret: NAME})")
            }
            guard fields["file"] == nil else { throw SettingsError("\(at).file is for engine sqlite") }
            return DatabaseSettings(name: name, engine: .postgres(dsn: dsn), readOnly: readOnly,
                                    busyTimeoutMs: busy, poolSize: pool)
        case let other:
            throw SettingsError("\(at).engine must be \"sqlite\" or \"postgres\", not \"\(other)\"")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    }

    static func isValidFileName(_ file: String) -> Bool {
        !file.isEmpty && file != "." && file != ".." && file.utf8.count <= 255 && !file.utf8.contains(0x2F)
            && !file.utf8.contains(0)
    }

    private static func bool(_ v: JSONValue?, at: String) throws(SettingsError) -> Bool {
        guard let v, !v.isNull else { return false }
        guard let b = v.boolValue else { throw SettingsError("\(at) must be true or false") }
        return b
    }

    private static func int(_ v: JSONValue?, default d: Int, in range: ClosedRange<Int>, at: String) throws(SettingsError) -> Int {
        guard let v, !v.isNull else { return d }
        guard let i = v.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw SettingsError("\(at) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}

/// The layer settings are wrong; the plugin does not start (the kernel shows why in the layer's events).
struct SettingsError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
