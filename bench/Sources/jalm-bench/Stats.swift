/// Percentiles of a sample of durations in microseconds.
struct Stats {
    var samples: [Double]

    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let i = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.down)))
        return sorted[i]
    }

    var summary: String {
        "p50 \(fmt(percentile(50))) µs  p90 \(fmt(percentile(90))) µs  p99 \(fmt(percentile(99))) µs"
    }
}

/// The three machine-readable lines of a rate and its latencies: `NAME_per_s`, `NAME_p50_us`, `NAME_p99_us`.
func printResults(_ name: String, rate: Double, _ stats: Stats) {
    print("RESULT \(name)_per_s \(fmt(rate, 0))")
    print("RESULT \(name)_p50_us \(fmt(stats.percentile(50)))")
    print("RESULT \(name)_p99_us \(fmt(stats.percentile(99)))")
}

func fmt(_ v: Double, _ digits: Int = 1) -> String {
    var s = String(Int((v * pow10(digits)).rounded()))
    if digits > 0 {
        while s.count <= digits { s = "0" + s }
        s.insert(".", at: s.index(s.endIndex, offsetBy: -digits))
    }
    return s
}

private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}
