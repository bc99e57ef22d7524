import Foundation
import Testing

/// The io-http benchmark (bench/io-http.sh) is not run for its figures here: it is run briefly, on the
/// debug binaries, so that the script, its nginx, its floors and `jalm-bench iohttp` cannot rot unnoticed.
/// Every figure it prints must be present and positive, and the ratio lines must be written.
@Suite(.serialized) struct BenchSmokeTests {
    @Test func theIOHTTPBenchmarkRunsAndPrintsEveryFigure() throws {
        let out = NSTemporaryDirectory() + "jalm-bench-smoke-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Daemon.repoDir + "/bench/io-http.sh")
        p.arguments = [Daemon.binDir]
        var env = ProcessInfo.processInfo.environment
        env["IOHTTP_BENCH_SECS"] = "1"
        env["IOHTTP_BENCH_CURL_N"] = "20"
        env["BENCH_OUT"] = out
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        var results: [String: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let parts = line.split(separator: " ")
            if parts.count == 3 { results[String(parts[1])] = Double(parts[2]) }
        }
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
}
