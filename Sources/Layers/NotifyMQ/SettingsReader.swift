import JALMWire

/// A layer setting that is missing or malformed; the plugin refuses to start and says which key.
struct SettingsError: Error, CustomStringConvertible {
    var path: String
    var problem: String
    var description: String { "layers.notify-mq.\(path) \(problem)" }
}

/// Reads one object of the layer settings, naming the key path in every error.
struct SettingsReader {
    let path: String
    let object: [String: JSONValue]

    init(_ value: JSONValue?, path: String) throws(SettingsError) {
        guard let value, !value.isNull else {
            self.init(path: path, object: [:])
            return
        }
        guard let object = value.objectValue else { throw SettingsError(path: path, problem: "must be an object") }
        self.init(path: path, object: object)
    }

    private init(path: String, object: [String: JSONValue]) {
        self.path = path
        self.object = object
    }

    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Refuses a key outside `known`, so that a misspelt setting (`pasword`) stops the plugin at start
    /// instead of being ignored.
    func only(_ known: Set<String>) throws(SettingsError) {
        if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
            throw SettingsError(path: child(unknown), problem: "is not a known key (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ key: String) throws(SettingsError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw SettingsError(path: child(key), problem: "must be a string") }
        if HeaderText.forbiddenCharacter(in: s) != nil {
            throw SettingsError(path: child(key), problem: "must not contain CR, LF or NUL")
        }
        return s
    }

    /// A multi-line value (a PEM bundle): line breaks allowed, since it never goes into a header.
    func text(_ key: String) throws(SettingsError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw SettingsError(path: child(key), problem: "must be a string") }
        return s
    }

    func requiredString(_ key: String) throws(SettingsError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw SettingsError(path: child(key), problem: "is required") }
        return s
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let v = object[key], !v.isNull else { return fallback }
        guard let i = v.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw SettingsError(path: child(key), problem: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func bool(_ key: String, default fallback: Bool) throws(SettingsError) -> Bool {
        guard let v = object[key], !v.isNull else { return fallback }
        guard let b = v.boolValue else { throw SettingsError(path: child(key), problem: "must be a boolean") }
        return b
    }

    func stringList(_ key: String) throws(SettingsError) -> [String] {
        guard let v = object[key], !v.isNull else { return [] }
        guard let items = v.arrayValue else { throw SettingsError(path: child(key), problem: "must be a list of strings") }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw SettingsError(path: child(key), problem: "must be a list of strings") }
            out.append(s)
        }
        return out
    }

    /// Each entry of a `{NAME: {...}}` table, parsed by `make`.
    func table<T>(_ key: String, _ make: (String, SettingsReader) throws(SettingsError) -> T) throws(SettingsError) -> [String: T] {
        let table = try SettingsReader(object[key], path: child(key))
        var result: [String: T] = [:]
        for (name, value) in table.object {
            result[name] = try make(name, SettingsReader(value, path: table.child(name)))
        }
        return result
    }
}
