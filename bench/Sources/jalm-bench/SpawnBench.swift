import Foundation
import Logging
import JALMKernel
import JALMSupervisor

/// Benchmark 3: spawn-to-ready of all six layers, confined (jalm-launch: cgroup, Landlock, seccomp,
/// namespaces, then the audit) versus unconfined, each round a fresh kernel on a fresh data folder.
enum SpawnBench {
    static func run(binDir: String, shareDir: String, dataDir: String, rounds: Int) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        for mode in [SandboxMode.off, .enforce] {
            var times: [Double] = []
            for round in 0..<rounds {
                var config = KernelConfig(dataDirectory: "\(dataDir)/spawn-\(mode)-\(round)", shareDirectory: shareDir,
                                          binDirectory: binDir)
                config.sandbox = mode
                config.listen = nil
                try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
                let kernel = try Kernel(config: config, logger: logger)
                let t0 = ContinuousClock.now
                await kernel.start()
                times.append(microseconds(ContinuousClock.now - t0))
                guard kernel.health.ok else { throw BenchError("layers not ready: \(kernel.health.reasons)") }
                await kernel.shutdown()
            }
            let stats = Stats(samples: times)
            print("spawn six layers, sandbox \(mode.rawValue): p50 \(fmt(stats.percentile(50) / 1000, 2)) ms  "
                + "max \(fmt(stats.percentile(100) / 1000, 2)) ms  (\(rounds) rounds)")
            print("RESULT spawn_\(mode.rawValue)_p50_ms \(fmt(stats.percentile(50) / 1000, 2))")
        }
    }
}
