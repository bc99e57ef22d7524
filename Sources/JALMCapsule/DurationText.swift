import JALMWire

/// Durations as capsules and cards write them: a number of seconds, or text such as `500ms`, `30s`, `5m`, `1h`.
public enum DurationText {
    /// The longest timeout or delay a capsule may ask for: one day.
    public static let maxMilliseconds: Int64 = 86_400_000

    /// The duration in milliseconds, or nil when `value` is not a duration (or overflows).
    /// Range checks (positive, at most a day) are the caller's, who knows which field it is.
    public static func parseMilliseconds(_ value: JSONValue) -> Int64? {
        switch value {
        case .int(let seconds):
            let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : ms
        case .double(let seconds):
            return milliseconds(seconds, unit: 1000)
        case .string(let text):
            return parse(text)
        default:
            return nil
        }
    }

    private static let units: [(suffix: String, ms: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]

    private static func parse(_ text: String) -> Int64? {
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number)
            else { continue }
            return milliseconds(value, unit: unit.ms)
        }
        return nil
    }

    private static func milliseconds(_ value: Double, unit: Double) -> Int64? {
        let ms = (value * unit).rounded()
        guard ms.isFinite, abs(ms) < 9.0e15 else { return nil }
        return Int64(ms)
    }
}
