import JALMCore
import JALMWire

/// `plugins/<layer>/plugin.yml`: which executable serves a layer and how many of it.
public struct LayerManifest: Sendable {
    public var name: String
    /// A bare name is looked up in the daemon's binary folder; a path is relative to the manifest.
    public var executable: String
    public var arguments: [String]
    public var version: String
    public var pool: Int
    public var maxInflight: Int
    /// The ops the plugin is expected to announce (documentation; `hello` is the authority).
    public var ops: [String]
    public var environment: [String: String]
    /// `limits: {memory, pids, cpu}` as written; parsed by the sandbox (ResourceLimits).
    public var limits: JSONValue?
    /// A sandbox policy of the plugin's own (`policy:`, relative to the manifest), instead of
    /// `sandbox/<layer>.yml`: a plugin in another language needs other syscalls and paths.
    public var policy: String?
    /// The folder the manifest was read from.
    public var directory: String

    /// The executable to start: an absolute path as written, a path with a `/` relative to the manifest's
    /// folder, a bare name from `binDirectory` (where jalmd and the shipped plugins live).
    public func executablePath(binDirectory: String) -> String {
        if executable.hasPrefix("/") { return executable }
        if executable.contains("/") { return directory + "/" + executable }
        return binDirectory + "/" + executable
    }

    public static func parse(_ doc: JSONValue, directory: String) throws(RunnerError) -> LayerManifest {
        func fail(_ field: String, _ what: String) -> RunnerError {
            RunnerError(.invalidInput, "\(directory)/plugin.yml: \"\(field)\" \(what)", pointer: "/\(field)")
        }
        guard let name = doc["name"]?.stringValue, !name.isEmpty else { throw fail("name", "must be a non-empty string") }
        guard let exe = doc["executable"]?.stringValue, !exe.isEmpty else {
            throw fail("executable", "must be a non-empty string")
        }
        let pool = doc["pool"]?.intValue ?? 1
        guard (1...64).contains(pool) else { throw fail("pool", "must be an integer from 1 to 64") }
        let inflight = doc["max_inflight"]?.intValue ?? 64
        guard (1...100_000).contains(inflight) else { throw fail("max_inflight", "must be an integer from 1 to 100000") }
        var env: [String: String] = [:]
        for (k, v) in doc["env"]?.objectValue ?? [:] {
            guard let s = v.stringValue else { throw fail("env", "values must be strings") }
            env[k] = s
        }
        return LayerManifest(
            name: name, executable: exe,
            arguments: (doc["args"]?.arrayValue ?? []).compactMap(\.stringValue),
            version: doc["version"]?.stringValue ?? jalmVersion,
            pool: Int(pool), maxInflight: Int(inflight),
            ops: (doc["ops"]?.arrayValue ?? []).compactMap(\.stringValue),
            environment: env, limits: doc["limits"],
            policy: doc["policy"]?.stringValue.map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 },
            directory: directory)
    }
}
