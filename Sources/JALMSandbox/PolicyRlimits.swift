import JALMCore
import JALMWire

extension SandboxPolicy {
    /// `rlimits: {nofile: 1024, core: 0, nproc: unlimited, stack: {soft: 8388608, hard: unlimited}}`.
    /// A single value sets soft and hard alike; `"SOFT:HARD"` is also accepted.
    static func parseRlimits(_ value: JSONValue, file: String) throws(RunnerError) -> [Rlimit] {
        let o = try PolicyFile.object(value, file: file, at: JSONPointer(["rlimits"]), allowed: Rlimit.names)
        var out: [Rlimit] = []
        for name in o.keys.sorted() {
            let at = "/rlimits/\(name)"
            let (soft, hard) = try rlimitPair(o[name]!, file: file, at: at)
            if let soft, let hard, soft > hard {
                throw PolicyFile.invalid(file, at, "soft limit \(soft) is above the hard limit \(hard)")
            }
            if soft == nil && hard != nil {
                throw PolicyFile.invalid(file, at, "an unlimited soft limit needs an unlimited hard limit")
            }
            out.append(Rlimit(name: name, soft: soft, hard: hard))
        }
        return out
    }

    static func rlimitPair(_ value: JSONValue, file: String, at: String) throws(RunnerError) -> (UInt64?, UInt64?) {
        if case .object(let o) = value {
            _ = try PolicyFile.object(value, file: file, at: JSONPointer(parsing: at) ?? .root, allowed: ["soft", "hard"])
            guard let s = o["soft"], let h = o["hard"] else {
                throw PolicyFile.invalid(file, at, "needs both soft and hard")
            }
            return (try rlimitValue(s, file: file, at: at + "/soft"), try rlimitValue(h, file: file, at: at + "/hard"))
        }
        if let text = value.stringValue, text.contains(":") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw PolicyFile.invalid(file, at, "\"\(text)\" is not SOFT:HARD") }
            return (try rlimitValue(.string(parts[0]), file: file, at: at), try rlimitValue(.string(parts[1]), file: file, at: at))
        }
        let v = try rlimitValue(value, file: file, at: at)
        return (v, v)
    }

    /// A non-negative integer, or `unlimited` (nil).
    static func rlimitValue(_ value: JSONValue, file: String, at: String) throws(RunnerError) -> UInt64? {
        if value.stringValue == "unlimited" { return nil }
        if let i = value.intValue, i >= 0 { return UInt64(i) }
        if let s = value.stringValue, let i = UInt64(s) { return i }
        throw PolicyFile.invalid(file, at, "must be a non-negative integer or \"unlimited\", got \(value)")
    }
}
