import Logging
import JALMSupervisor
import JALMWire

/// Benchmark 1: `sys.echo` round trips kernel → layer → kernel through the real supervisor, channel and
/// plugin process, with a 200-byte payload like the C floor's.
enum DispatchBench {
    static func run(binDir: String, dataDir: String, calls: Int) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let manifest = try LayerManifest.parse(
            ["name": "io-file", "executable": "jalm-layer-io-file", "pool": 1, "max_inflight": 1024],
            directory: binDir)
        let supervisor = try LayerSupervisor(
            manifest: manifest, settings: SupervisorSettings(binDirectory: binDir, dataDirectory: dataDir),
            requiredOps: ["sys.echo"], logger: logger, recordEvent: { _, _ in })
        supervisor.start()
        // The ping loop and deadline sweep, which the kernel would run beside the supervisor.
        let loops = Task { try await SupervisorLoops(supervisor).run() }
        while !supervisor.isReady { try await Task.sleep(for: .milliseconds(5)) }
        let payload: JSONValue = ["data": .string(String(repeating: "x", count: 170))]  // ~200-byte frame

        // Warm up.
        for _ in 0..<2000 { _ = await supervisor.call(op: "sys.echo", input: payload, timeout: .seconds(10)) }

        var lat: [Double] = []
        lat.reserveCapacity(calls / 4)
        let clock = ContinuousClock()
        for _ in 0..<(calls / 4) {
            let t0 = clock.now
            let (outcome, _) = await supervisor.call(op: "sys.echo", input: payload, timeout: .seconds(10))
            lat.append(microseconds(clock.now - t0))
            if case .failed(let f) = outcome { fatalError("echo failed: \(f)") }
        }
        print("dispatch  1 in flight : \(Stats(samples: lat).summary)  (\(lat.count) calls)")
        print("RESULT dispatch_p50_us \(fmt(Stats(samples: lat).percentile(50)))")
        print("RESULT dispatch_p99_us \(fmt(Stats(samples: lat).percentile(99)))")

        for inflight in [1, 64] {
            let perTask = calls / inflight
            let t0 = clock.now
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<inflight {
                    group.addTask {
                        for _ in 0..<perTask {
                            _ = await supervisor.call(op: "sys.echo", input: payload, timeout: .seconds(30))
                        }
                    }
                }
            }
            let seconds = microseconds(clock.now - t0) / 1e6
            let rate = Double(perTask * inflight) / seconds
            print("dispatch \(inflight) in flight: \(fmt(rate, 0)) calls/s  (\(perTask * inflight) calls in \(fmt(seconds, 2)) s)")
            print("RESULT dispatch_calls_per_s_\(inflight) \(fmt(rate, 0))")
        }
        await supervisor.drain(timeout: .seconds(2))
        loops.cancel()
    }
}
