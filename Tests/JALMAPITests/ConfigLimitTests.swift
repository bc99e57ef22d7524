import JALMCore
import JALMKernel
import JALMWire
import Testing

/// The engine's two config limits at their edges: the last value accepted, the first refused, and the
/// refusal naming the key and its range.
@Suite struct ConfigLimitTests {
    func applied(_ key: String, _ value: String) throws(RunnerError) -> KernelConfig {
        var config = KernelConfig(dataDirectory: "/tmp/unused", shareDirectory: "/tmp/unused", binDirectory: "/tmp/unused")
        try config.apply(file: [key: .string(value)], name: "jalmd.yml")
        return config
    }

    func refusal(_ key: String, _ value: String) -> RunnerError? {
        do { _ = try applied(key, value) } catch { return error }
        return nil
    }

    @Test func idempotencyRetentionIsFromOneSecondToNinetyDays() throws {
        #expect(try applied("idempotency_retention", "1s").runner.idempotencyRetention == .seconds(1))
        #expect(try applied("idempotency_retention", "2160h").runner.idempotencyRetention == .seconds(90 * 86400))
        for bad in ["999ms", "2161h", "0s"] {
            let e = refusal("idempotency_retention", bad)
            #expect(e?.code == .invalidInput, "\(bad)")
            #expect(e?.message.contains("idempotency_retention must be from 1s to 90 days") == true, "\(bad): \(String(describing: e))")
        }
    }

    @Test func theIncludeLimitsAreSetAtTheirEdges() throws {
        let edges: [(key: String, low: Int64, high: Int64, read: (KernelConfig) -> Int)] = [
            ("include_max_depth", 1, 64, { $0.runner.includeLimits.maxDepth }),
            ("include_max_fragment_bytes", 1024, 64 << 20, { $0.runner.includeLimits.maxFragmentBytes }),
            ("include_max_expanded_bytes", 65_536, 256 << 20, { $0.runner.includeLimits.maxExpandedBytes }),
        ]
        for e in edges {
            for v in [e.low, e.high] {
                var config = KernelConfig(dataDirectory: "/tmp/unused", shareDirectory: "/tmp/unused", binDirectory: "/tmp/unused")
                try config.apply(file: [e.key: .int(v)], name: "jalmd.yml")
                #expect(e.read(config) == Int(v), "\(e.key) \(v)")
            }
            for v in [e.low - 1, e.high + 1] {
                var config = KernelConfig(dataDirectory: "/tmp/unused", shareDirectory: "/tmp/unused", binDirectory: "/tmp/unused")
                #expect(throws: RunnerError.self, "\(e.key) \(v)") { try config.apply(file: [e.key: .int(v)], name: "jalmd.yml") }
            }
        }
    }

    @Test func journalGroupDelayIsFromZeroToOneSecond() throws {
        #expect(try applied("journal_group_delay", "0ms").journalGroupDelay == .zero)
        #expect(try applied("journal_group_delay", "1s").journalGroupDelay == .seconds(1))
        let e = refusal("journal_group_delay", "1001ms")
        #expect(e?.message.contains("journal_group_delay must be from 0 to 1s") == true, "\(String(describing: e))")
        #expect(refusal("journal_group_delay", "-5ms")?.code == .invalidInput)
    }
}
