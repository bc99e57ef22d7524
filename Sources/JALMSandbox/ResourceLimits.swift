import JALMCore
import JALMWire

/// The cgroup limits of a layer's processes, from `limits:` in `plugins/<layer>/plugin.yml`.
public struct ResourceLimits: Sendable, Hashable {
    /// Memory (and, with no swap, memory+swap) in bytes.
    public var memoryBytes: Int64
    /// Most tasks (processes and threads) at once.
    public var pids: Int
    /// CPU time as a fraction of one core (0.5 = 50 ms per 100 ms period).
    public var cpu: Double

    public static let defaultMemory: Int64 = 512 << 20
    public static let defaultPids = 128
    public static let defaultCPU = 1.0
    /// Below 16 MiB not even a Swift runtime starts; above 1 TiB is a typo.
    public static let memoryRange: ClosedRange<Int64> = (16 << 20)...(1 << 40)
    /// A layer needs at least its own task plus one; 65536 is the kernel's own default pid_max.
    public static let pidsRange: ClosedRange<Int> = 2...65_536
    /// The CFS quota must be at least 1 ms per 100 ms period (cpu.cfs_quota_us >= 1000).
    public static let cpuRange: ClosedRange<Double> = 0.01...1024

    public static let defaults = ResourceLimits(memoryBytes: defaultMemory, pids: defaultPids, cpu: defaultCPU)

    public init(memoryBytes: Int64, pids: Int, cpu: Double) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.cpu = cpu
    }

    /// `limits: {memory: 256MiB, pids: 64, cpu: 0.5}`; each absent field takes its default, an absent
    /// `limits` all of them. Errors point at `/limits/<field>`.
    public static func parse(_ doc: JSONValue?) throws(RunnerError) -> ResourceLimits {
        guard let doc, !doc.isNull else { return defaults }
        guard let o = doc.objectValue else { throw invalid("", "must be an object, got \(doc.typeName)") }
        if let unknown = o.keys.sorted().first(where: { !["memory", "pids", "cpu"].contains($0) }) {
            throw invalid("/\(unknown)", "unknown limit (known: memory, pids, cpu)")
        }
        var limits = defaults
        if let m = o["memory"] {
            guard let bytes = parseBytes(m) else { throw invalid("/memory", "\(m) is not a size such as 256MiB") }
            limits.memoryBytes = bytes
        }
        if let p = o["pids"] {
            guard let n = p.intValue else { throw invalid("/pids", "must be an integer, got \(p)") }
            limits.pids = Int(clamping: n)
        }
        if let c = o["cpu"] {
            guard let f = c.doubleValue else { throw invalid("/cpu", "must be a number of cores, got \(c)") }
            limits.cpu = f
        }
        try limits.checkBounds()
        return limits
    }

    func checkBounds() throws(RunnerError) {
        guard Self.memoryRange.contains(memoryBytes) else {
            throw Self.invalid("/memory", "\(memoryBytes) bytes is outside 16MiB...1TiB")
        }
        guard Self.pidsRange.contains(pids) else { throw Self.invalid("/pids", "\(pids) is outside 2...65536") }
        guard cpu.isFinite, Self.cpuRange.contains(cpu) else { throw Self.invalid("/cpu", "\(cpu) is outside 0.01...1024") }
    }

    static let suffixes: [(String, Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
    ]

    /// Bytes from an integer or `256MiB` / `256M` / `1.5GiB` (K, M and G are binary, as in cgroups and Docker).
    static func parseBytes(_ value: JSONValue) -> Int64? {
        if case .int(let n) = value { return n }
        guard let text = value.stringValue?.filter({ $0 != " " }) else { return nil }
        if let n = Int64(text) { return n }
        for (suffix, unit) in suffixes where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number.isFinite, number >= 0 else { return nil }
            let bytes = number * Double(unit)
            return bytes < 9.0e18 ? Int64(bytes) : nil
        }
        return nil
    }

    static func invalid(_ field: String, _ message: String) -> RunnerError {
        RunnerError(.invalidInput, "plugin.yml limits\(field.isEmpty ? "" : " " + field.dropFirst()): \(message)",
                    pointer: "/limits" + field)
    }

    /// `{memory_bytes, pids, cpu}` for GET /layers and `jalm sandbox check`.
    public var json: JSONValue {
        ["memory_bytes": .int(memoryBytes), "pids": .int(Int64(pids)), "cpu": .double(cpu)]
    }

    /// The CFS quota per 100 ms period, in microseconds.
    public var cpuQuotaMicroseconds: Int { Int((cpu * 100_000).rounded()) }
}
