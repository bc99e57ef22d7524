#if canImport(Glibc)
import Glibc
#endif
import JALMPlatform

/// Execution ids: `ex_` + 12 hex digits of milliseconds + 10 random hex digits, so they sort by time.
enum ExecutionID {
    static func make(now: Int64 = epochMilliseconds()) -> String {
        var g = SystemRandomNumberGenerator()
        let r = UInt64.random(in: 0..<(1 << 40), using: &g)
        return "ex_" + hex(UInt64(now), width: 12) + hex(r, width: 10)
    }

    static func hex(_ v: UInt64, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func isValid(_ s: String) -> Bool {
        s.count == 25 && s.hasPrefix("ex_") && s.dropFirst(3).allSatisfy { $0.isHexDigit }
    }
}
