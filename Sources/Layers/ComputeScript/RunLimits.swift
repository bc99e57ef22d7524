import JALMWire

/// The limits of one `run`, each named as a step writes it (`limits: {memory_mb: 64}`). The layer settings
/// give each a default and a maximum; a step may ask for any value from the minimum to that maximum.
struct RunLimits: Sendable, Equatable {
    /// Memory of the run's cgroup (every process of the run together), MiB. An OOM kill ends the run.
    var memoryMB: Int64
    /// Processes and threads in the run's cgroup at once (`pids.max`); a fork past it fails with EAGAIN.
    var pids: Int64
    /// CPU time of each process of the run, whole seconds (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later).
    var cpuSeconds: Int64
    /// Share of the CPU in cores (the cgroup's CFS quota); nil keeps the layer's own quota.
    var cpus: Double?
    /// Wall-clock time from the request to the end of the run, ms (also capped by the step's deadline).
    var wallMs: Int64
    /// Bytes the script may write to stdout; past it the run is killed.
    var stdoutBytes: Int64
    /// Bytes of stderr kept (for the journal); the rest is counted and dropped, the run goes on.
    var stderrBytes: Int64
    /// Largest file the run may write (RLIMIT_FSIZE: SIGXFSZ).
    var fileBytes: Int64
    /// Open files per process (RLIMIT_NOFILE).
    var openFiles: Int64

    /// One limit's name, bounds and accessor, for parsing and for the docs' table.
    struct Spec {
        let name: String
        let minimum: Double
        let ceiling: Double
        let what: String
        let keyPath: WritableKeyPath<RunLimits, Int64>?
    }

    /// The integer limits; `cpus` is a number and handled on its own.
    nonisolated(unsafe) static let specs: [Spec] = [
        Spec(name: "memory_mb", minimum: 8, ceiling: 65_536, what: "MiB of memory", keyPath: \.memoryMB),
        Spec(name: "pids", minimum: 1, ceiling: 4_096, what: "processes", keyPath: \.pids),
        Spec(name: "cpu_seconds", minimum: 1, ceiling: 3_600, what: "CPU seconds", keyPath: \.cpuSeconds),
        Spec(name: "wall_ms", minimum: 1, ceiling: 3_600_000, what: "ms of wall-clock time", keyPath: \.wallMs),
        Spec(name: "stdout_bytes", minimum: 0, ceiling: 67_108_864, what: "bytes of stdout", keyPath: \.stdoutBytes),
        Spec(name: "stderr_bytes", minimum: 0, ceiling: 67_108_864, what: "bytes of stderr", keyPath: \.stderrBytes),
        Spec(name: "file_bytes", minimum: 0, ceiling: 1_099_511_627_776, what: "bytes per file", keyPath: \.fileBytes),
        Spec(name: "open_files", minimum: 16, ceiling: 65_536, what: "open files", keyPath: \.openFiles),
    ]
    static let cpusRange = 0.01...64.0

    static let builtInDefaults = RunLimits(
        memoryMB: 128, pids: 16, cpuSeconds: 5, cpus: nil, wallMs: 10_000, stdoutBytes: 1 << 20,
        stderrBytes: 64 << 10, fileBytes: 16 << 20, openFiles: 64)
    static let builtInMaxima = RunLimits(
        memoryMB: 512, pids: 64, cpuSeconds: 60, cpus: 1.0, wallMs: 120_000, stdoutBytes: 8 << 20,
        stderrBytes: 1 << 20, fileBytes: 256 << 20, openFiles: 1_024)

    /// `base` with the keys of `object` applied, each within its spec and at most `maxima` (when given).
    /// `pointer` names the object in error messages (`/limits`, `layers.compute-script.defaults`).
    static func parse(_ object: JSONValue?, over base: RunLimits, maxima: RunLimits?, pointer: String)
        throws(CallFailure) -> RunLimits
    {
        guard let object, !object.isNull else { return base }
        guard let fields = object.objectValue else {
            throw CallFailure(.invalidInput, "\(pointer) must be an object of limits", details: ["pointer": .string(pointer)])
        }
        var out = base
        for (key, value) in fields {
            let at = pointer + "/" + key
            if key == "cpus" {
                guard let v = value.doubleValue, cpusRange.contains(v) else {
                    throw bad(at, "must be a number of cores from \(cpusRange.lowerBound) to \(cpusRange.upperBound)")
                }
                if let max = maxima?.cpus, v > max {
                    throw over(at, key, "\(v)", "\(max)")
                }
                out.cpus = v
                continue
            }
            guard let spec = specs.first(where: { $0.name == key }), let path = spec.keyPath else {
                throw bad(at, "is not a limit; the limits are " + (specs.map(\.name) + ["cpus"]).joined(separator: ", "))
            }
            guard let v = value.intValue, Double(v) >= spec.minimum, Double(v) <= spec.ceiling else {
                throw bad(at, "must be an integer from \(Int64(spec.minimum)) to \(Int64(spec.ceiling)) (\(spec.what))")
            }
            if let maxima, v > maxima[keyPath: path] {
                throw over(at, key, "\(v)", "\(maxima[keyPath: path])")
            }
            out[keyPath: path] = v
        }
        return out
    }

    private static func bad(_ pointer: String, _ what: String) -> CallFailure {
        CallFailure(.invalidInput, "\(pointer) \(what)", details: ["pointer": .string(pointer)])
    }

    private static func over(_ pointer: String, _ key: String, _ value: String, _ max: String) -> CallFailure {
        CallFailure(.invalidInput,
                    "\(pointer) is \(value), above the layer's maximum \(max) (layers.compute-script.maxima.\(key))",
                    details: ["pointer": .string(pointer), "limit": .string(key), "maximum": .string(max)])
    }

    /// What the zygote needs (bytes, microseconds), as JSON.
    var zygoteJSON: JSONValue {
        [
            "memory_bytes": .int(memoryMB << 20), "pids": .int(pids), "cpu_seconds": .int(cpuSeconds),
            "cpu_quota_us": .int(cpus.map { Int64(($0 * 100_000).rounded()) } ?? -1),
            "wall_ms": .int(wallMs), "stdout_bytes": .int(stdoutBytes), "stderr_bytes": .int(stderrBytes),
            "file_bytes": .int(fileBytes), "open_files": .int(openFiles),
        ]
    }

    /// The value of a limit by its name, for messages (`memory_mb` → 128).
    func value(named name: String) -> JSONValue {
        if name == "cpus" { return cpus.map { .double($0) } ?? .null }
        guard let path = Self.specs.first(where: { $0.name == name })?.keyPath else { return .null }
        return .int(self[keyPath: path])
    }
}
