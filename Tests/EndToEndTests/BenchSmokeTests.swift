import Foundation
import Testing

/// The io-http benchmark (bench/io-http.sh) and the engine figures (bench/engine.sh) are not run for their
/// figures here: they are run briefly, on the debug binaries, so that the scripts, their floors and
/// jalm-bench cannot rot unnoticed. Every figure they print must be present and positive, and the ratio
/// lines (the table) must be written.
@Suite(.serialized) struct BenchSmokeTests {
    @Test func theEngineBenchmarkRunsAndPrintsEveryFigure() throws {
        let out = NSTemporaryDirectory() + "jalm-bench-engine-smoke-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, text) = try runScript("bench/engine.sh", env: [
            "BENCH_OUT": out, "JALM_BENCH_SECONDS": "0.5", "JALM_BENCH_WARMUP_SECS": "0.2", "JALM_BENCH_IDLE_SECS": "0.5",
            "JALM_BENCH_JOURNAL_N": "40", "FLOOR_LAT_N": "2000", "FLOOR_PIPE_N": "5000", "FLOOR_FSYNC_N": "50",
        ])
        #expect(status == 0, "\(text)")
        let results = resultLines(text)
        var expected = ["idle_rss_mib", "idle_pss_mib", "idle_processes", "journal_bytes_per_3step", "e2e_3step_c1_p90_us"]
        // The layers' share of a 0.5 s phase is a few 10 ms clock ticks, and the idle CPU over 0.25 s may be
        // none: those must be printed, not positive.
        var present = ["idle_cpu_ms_per_s"]
        for phase in ["e2e_1step", "e2e_3step", "e2e_3step_c1"] {
            expected += ["_per_s", "_p50_us", "_p99_us", "_cpu_us", "_cpu_jalmd_us"].map { phase + $0 }
            present.append(phase + "_cpu_layers_us")
        }
        for key in expected {
            #expect((results[key] ?? 0) > 0, "\(key) missing or zero in:\n\(text)")
        }
        for key in present {
            #expect((results[key] ?? -1) >= 0, "\(key) missing in:\n\(text)")
        }
        for floor in ["median=", "msgs/s=", "cpu_us_per_msg=", "fdatasync n=50"] {
            #expect(text.contains(floor), "floor \(floor) missing in:\n\(text)")
        }
        #expect(text.contains("| figure | value | floor | ratio |"), "\(text)")
        #expect(text.contains("| 3-step `sys.echo`, 1 client, p50 µs |"), "\(text)")
        #expect(text.contains("daemon CPU per capsule:"), "\(text)")
    }

    @Test func theIOHTTPBenchmarkRunsAndPrintsEveryFigure() throws {
        let out = NSTemporaryDirectory() + "jalm-bench-smoke-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let (status, text) = try runScript("bench/io-http.sh", env: ["IOHTTP_BENCH_SECS": "1", "IOHTTP_BENCH_CURL_N": "20", "BENCH_OUT": out])
        #expect(status == 0, "\(text)")
        let results = resultLines(text)
        var expected: [String] = []
        for c in [1, 16] {
            for prefix in ["floor_wrk_c\(c)", "iohttp_c\(c)", "iohttp_echo_c\(c)", "iohttp_echo_small_c\(c)", "iohttp_inprocess_c\(c)"] {
                expected += ["_per_s", "_p50_us", "_p99_us"].map { prefix + $0 }
            }
        }
        for prefix in ["floor_curl_keepalive", "floor_curl_loop"] { expected += ["_per_s", "_p50_us", "_p99_us"].map { prefix + $0 } }
        for key in expected {
            #expect((results[key] ?? 0) > 0, "\(key) missing or zero in:\n\(text)")
        }
        #expect(text.contains("== io-http ratios"), "\(text)")
        #expect(text.contains("vs wrk -c16:"), "\(text)")
        #expect(text.contains("where it goes: JALMNet alone in process"), "\(text)")
    }

    /// Runs a bench script of the checkout on the debug binaries; returns its status and its output.
    /// BASELINE is removed: a smoke run measures this checkout only.
    private func runScript(_ script: String, env extra: [String: String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Daemon.repoDir + "/" + script)
        p.arguments = [Daemon.binDir]
        var env = ProcessInfo.processInfo.environment
        env["BASELINE"] = nil
        env.merge(extra) { _, new in new }
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    private func resultLines(_ text: String) -> [String: Double] {
        var results: [String: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let parts = line.split(separator: " ")
            if parts.count == 3 { results[String(parts[1])] = Double(parts[2]) }
        }
        return results
    }
}
