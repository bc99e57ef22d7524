#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire

/// Benchmark 4: confined python3 runs (compute-script `run`, zygote-forked) through the whole runner, next
/// to a plain `python3 -c pass`, `bwrap --unshare-all` and `firejail` measured in the same run.
enum ScriptBench {
    static let python = "/usr/bin/python3"

    static func run(binDir: String, shareDir: String, dataDir: String, runs: Int) throws {
        var floors: [(String, Stats)] = []
        let plain = spawnLoop([python, "-c", "pass"], count: runs)
        floors.append(("plain python3 -c pass", plain))
        report("script_plain", "plain python3 -c pass", plain, count: runs)
        if let bwrap = which("bwrap") {
            let s = spawnLoop([bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                               "--tmpfs", "/tmp", "--die-with-parent", python, "-c", "pass"], count: runs)
            if s.samples.isEmpty { print("SKIP bwrap: it fails on this host") } else {
                floors.append(("bwrap --unshare-all", s))
                report("script_bwrap", "bwrap --unshare-all python3 -c pass", s, count: runs)
            }
        } else { print("SKIP bwrap: not installed (apt-get install bubblewrap)") }
        if let firejail = which("firejail") {
            let s = spawnLoop([firejail, "--quiet", "--noprofile", "--net=none", python, "-c", "pass"], count: max(runs / 4, 20))
            if s.samples.isEmpty { print("SKIP firejail: it fails on this host") } else {
                floors.append(("firejail --noprofile --net=none", s))
                report("script_firejail", "firejail python3 -c pass", s, count: s.samples.count)
            }
        } else { print("SKIP firejail: not installed (apt-get install firejail)") }

        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        let body = Array(JSONWriter.bytes([
            "intent": "bench script",
            "steps": [["id": "s", "layer": "compute-script", "op": "run",
                       "input": ["language": "python3", "code": "pass", "output": "text"]]],
        ]))
        let client = UnixHTTPClient(endpoint: .unix(path: socket), timeout: 30)
        var wall: [Double] = [], layer: [Double] = [], zygote: [Double] = []
        let clock = ContinuousClock()
        for i in 0..<(runs + 20) {
            usleep(2_000)  // a caller's pace, not a burst: each zygote has made its next run ready by then
            let t0 = clock.now
            guard let r = try? client.send(method: "POST", path: "/exec?wait=30", body: body, contentType: "application/json"),
                  r.status == 200, let v = try? JSONParser.parse(r.body), v["state"] == "completed"
            else { throw BenchError("a confined run failed") }
            let us = microseconds(clock.now - t0)
            guard i >= 20 else { continue }  // warm-up
            wall.append(us)
            if let ms = v["steps"]?[0]?["duration_ms"]?.doubleValue { layer.append(ms * 1000) }
            if let ms = v["outputs"]?["s"]?["wall_ms"]?.doubleValue { zygote.append(ms * 1000) }
        }
        let whole = Stats(samples: wall)
        report("script_runner", "confined run, whole runner (POST /exec?wait)", whole, count: wall.count)
        report("script_layer", "confined run, kernel dispatch to result (ms resolution)", Stats(samples: layer), count: layer.count)
        report("script_zygote", "confined run, inside the zygote (request to end)", Stats(samples: zygote), count: zygote.count)
        let conc = try concurrentRate(socket: socket, body: body, seconds: 3, clients: 4)
        print("script runs through the runner, 4 clients: \(fmt(conc, 0)) runs/s")
        print("RESULT script_runner_4clients_per_s \(fmt(conc, 0))")
        print("== script ratios (p50 / plain python3 -c pass p50, same run)")
        let base = plain.percentile(50)
        for (name, s) in floors + [("confined run, whole runner", whole)] {
            print("\(name): p50 \(fmt(s.percentile(50) / 1000, 2)) ms = \(fmt(s.percentile(50) / base, 2))x plain")
        }
    }

    static func report(_ key: String, _ label: String, _ s: Stats, count: Int) {
        guard !s.samples.isEmpty else { return }
        let perSecond = 1e6 / (s.samples.reduce(0, +) / Double(s.samples.count))
        print("\(label): \(s.summary), \(fmt(perSecond, 0)) runs/s sequential  (\(count) runs)")
        print("RESULT \(key)_p50_us \(fmt(s.percentile(50)))")
        print("RESULT \(key)_p99_us \(fmt(s.percentile(99)))")
        print("RESULT \(key)_per_s \(fmt(perSecond, 0))")
    }

    /// Spawns `argv` `count` times one after another; the wall time of each (spawn to reaped). A run that
    /// exits non-zero drops the whole series (the tool does not work here).
    static func spawnLoop(_ argv: [String], count: Int) -> Stats {
        var samples: [Double] = []
        let clock = ContinuousClock()
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for i in 0..<(count + 5) {
            var pid: pid_t = 0
            let t0 = clock.now
            guard posix_spawn(&pid, argv[0], &actions, nil, cargs, environ) == 0 else { return Stats(samples: []) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if status != 0 { return Stats(samples: []) }
            if i >= 5 { samples.append(microseconds(clock.now - t0)) }
        }
        return Stats(samples: samples)
    }

    static func concurrentRate(socket: String, body: [UInt8], seconds: Double, clients: Int) throws -> Double {
        let (count, _) = try EndToEndBench.drive(socket: socket, body: body, seconds: seconds, clients: clients)
        return Double(count) / seconds
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where access(dir + "/" + name, X_OK) == 0 { return dir + "/" + name }
        return nil
    }
}
