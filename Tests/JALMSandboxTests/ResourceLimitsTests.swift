import JALMCore
import JALMSandbox
import JALMWire
import Testing

@Suite struct ResourceLimitsTests {
    @Test func absentLimitsTakeTheDefaults() throws {
        #expect(try ResourceLimits.parse(nil) == ResourceLimits(memoryBytes: 512 << 20, pids: 128, cpu: 1.0))
        #expect(try ResourceLimits.parse(["pids": 64]) == ResourceLimits(memoryBytes: 512 << 20, pids: 64, cpu: 1.0))
    }

    @Test(arguments: [
        ("256MiB", Int64(256 << 20)), ("256M", 256 << 20), ("1GiB", 1 << 30), ("1.5G", 3 << 29),
        ("65536K", 64 << 20), ("100000000", 100_000_000),
    ])
    func memoryTakesBinarySuffixesOrBytes(text: String, bytes: Int64) throws {
        #expect(try ResourceLimits.parse(["memory": .string(text)]).memoryBytes == bytes)
    }

    @Test func memoryAsAnIntegerIsBytes() throws {
        #expect(try ResourceLimits.parse(["memory": .int(64 << 20)]).memoryBytes == 64 << 20)
    }

    @Test func cpuIsAFractionOfOneCoreAndBecomesACFSQuota() throws {
        let l = try ResourceLimits.parse(["memory": "256MiB", "pids": 64, "cpu": 0.5])
        #expect(l.cpu == 0.5)
        #expect(l.cpuQuotaMicroseconds == 50_000)
        #expect(l.json == ["memory_bytes": .int(256 << 20), "pids": 64, "cpu": 0.5])
    }

    static let malformed: [(JSONValue, String)] = [
        (["memory": "lots"], "/limits/memory"),
        (["memory": "1MiB"], "/limits/memory"),
        (["memory": "2TiB"], "/limits/memory"),
        (["memory": "-5M"], "/limits/memory"),
        (["pids": 1], "/limits/pids"),
        (["pids": 1_000_000], "/limits/pids"),
        (["pids": "many"], "/limits/pids"),
        (["cpu": 0], "/limits/cpu"),
        (["cpu": 0.001], "/limits/cpu"),
        (["cpu": "half"], "/limits/cpu"),
        (["cpus": 1], "/limits/cpus"),
        ("256MiB", "/limits"),
    ]

    @Test(arguments: malformed)
    func outOfBoundsOrMalformedLimitsAreRefusedWithTheirField(doc: JSONValue, pointer: String) {
        #expect { try ResourceLimits.parse(doc) } throws: { e in
            (e as? RunnerError)?.pointer == pointer && (e as? RunnerError)?.code == .invalidInput
        }
    }
}
