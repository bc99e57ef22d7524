#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import JALMWire
import Testing

/// compute-script `run` through the real daemon with the sandbox enforced: each limit at its edge, each
/// escape a script might try, and after each a clean run (fresh temp folder, nothing left by PID).
@Suite(.serialized) struct ComputeScriptRunTests {
    /// A run's result: the step's output, or its error (code, details).
    struct Outcome {
        var output: JSONValue?
        var code: String?
        var details: JSONValue?
        var message: String?
    }

    static func run(_ daemon: Daemon, _ language: String, _ code: String, input: JSONValue? = nil,
                    limits: JSONValue? = nil, output: String? = nil) throws -> Outcome {
        var step: [String: JSONValue] = ["language": .string(language), "code": .string(code)]
        if let input { step["input"] = input }
        if let limits { step["limits"] = limits }
        if let output { step["output"] = .string(output) }
        let (status, view) = try daemon.request("POST", "/exec?wait=60", json: [
            "intent": "compute-script test",
            "steps": [["id": "s", "layer": "compute-script", "op": "run", "input": .object(step), "retry": ["max": 0]]],
        ], timeout: 70)
        if status == 422 { return Outcome(code: view["code"]?.stringValue, details: view, message: view["detail"]?.stringValue) }
        let error = view["steps"]?[0]?["error"]
        return Outcome(output: view["outputs"]?["s"], code: error?["code"]?.stringValue, details: error?["details"],
                       message: error?["message"]?.stringValue)
    }

    /// The runs need memory, pids and cpu cgroups: v1 hierarchies, or v2 with the controllers delegated.
    static func requireCgroups() throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes")
            && fm.fileExists(atPath: "/sys/fs/cgroup/pids") && fm.fileExists(atPath: "/sys/fs/cgroup/cpu") { return }
        let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
        if ["memory", "pids", "cpu"].allSatisfy({ controllers.contains($0) }) { return }
        print("SKIP: compute-script runs need memory, pids and cpu cgroups (v1, or v2 delegated); this host has none")
        try Test.cancel("no cgroup controllers for compute-script runs")
    }

    static func alive(_ pid: Int64) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }

    /// A plain run right after a contained one: it works, in a new empty temp folder with a new pid, and
    /// the previous run's folder and process are gone.
    static func expectCleanRun(_ daemon: Daemon, after previous: Outcome? = nil, previousFolder: String? = nil) throws {
        let r = try run(daemon, "python3", "import os, json; print(json.dumps({'cwd': os.getcwd(), 'files': os.listdir('.')}))")
        #expect(r.code == nil, "the next run failed: \(r.message ?? "") \(String(describing: r.details))")
        let cwd = r.output?["result"]?["cwd"]?.stringValue ?? ""
        #expect(cwd.contains("/script-tmp/run-"), "cwd \(cwd)")
        #expect(r.output?["result"]?["files"] == .array([]), "a fresh temp folder is empty: \(String(describing: r.output))")
        if let prevPID = (previous?.output ?? previous?.details)?["pid"]?.intValue {
            #expect(r.output?["pid"]?.intValue != prevPID)
            #expect(try daemon.waitUntil(3) { !alive(prevPID) }, "the previous run's pid \(prevPID) is still alive")
        }
        if let previousFolder {
            #expect(previousFolder != cwd)
            #expect(try daemon.waitUntil(3) { !FileManager.default.fileExists(atPath: previousFolder) },
                    "the previous run's temp folder \(previousFolder) was not removed")
        }
        #expect(try daemon.waitUntil(3) { !FileManager.default.fileExists(atPath: cwd) }, "temp folder \(cwd) left behind")
    }

    /// With one zygote busy, a run whose step times out while it waits for the zygote never runs, so the
    /// next run starts as soon as the zygote is free (it used to run the dead step's script first).
    @Test func aRunThatTimedOutWhileWaitingForAZygoteNeverRuns() throws {
        try Self.requireCgroups()
        let d = try Daemon(config: "layers: {compute-script: {concurrency: 1}}")
        func capsule(_ code: String, timeout: String) -> JSONValue {
            ["intent": "queue", "steps": [["id": "s", "layer": "compute-script", "op": "run", "timeout": .string(timeout),
                                            "retry": ["max": 0], "input": ["language": "python3", "code": .string(code)]]]]
        }
        let start = Date()
        let (accepted, _) = try d.request("POST", "/exec", json: capsule("import time; time.sleep(3)", timeout: "20s"))
        #expect(accepted == 202)
        usleep(300_000)  // the first run holds the only zygote
        let (_, waited) = try d.request("POST", "/exec?wait=30", json: capsule("import time; time.sleep(10)", timeout: "2s"), timeout: 40)
        #expect(waited["steps"]?[0]?["error"]?["code"] == "timeout", "\(waited)")
        let (_, next) = try d.request("POST", "/exec?wait=30", json: capsule("print(1)", timeout: "20s"), timeout: 40)
        #expect(next["state"] == "completed", "\(next)")
        // The zygote is free at ~3 s; running the timed-out script first would take it to ~4.9 s.
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds < 4.2, "the next run finished after \(seconds) s")
    }

    @Test func python3AndShRunWithInputAndLeaveNothingBehind() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let py = try Self.run(d, "python3", """
            import json, sys, os
            data = json.load(sys.stdin)
            open("scratch.txt", "w").write("x")
            print(json.dumps({"sum": sum(data["n"]), "cwd": os.getcwd(), "files": sorted(os.listdir("."))}))
            """, input: ["n": [1, 2, 3]])
        #expect(py.code == nil, "\(String(describing: py.details))")
        #expect(py.output?["result"]?["sum"] == .int(6))
        #expect(py.output?["result"]?["files"] == ["scratch.txt"])
        let folder = py.output?["result"]?["cwd"]?.stringValue ?? "?"
        #expect(folder.hasPrefix(d.dataDir + "/script-tmp/run-"), "\(folder)")
        let main = try Self.run(d, "python3", "def main(x):\n    print('to stderr')\n    return {'twice': x * 2}", input: 21)
        #expect(main.output?["result"] == ["twice": 42])
        #expect(main.output?["stderr"] == "to stderr\n")
        let sh = try Self.run(d, "sh", #"read l; printf '{"got": %s}' "$l""#, input: ["a": true])
        #expect(sh.output?["result"] == ["got": ["a": true]], "\(String(describing: sh.details))")
        let text = try Self.run(d, "python3", "print('plain')", output: "text")
        #expect(text.output?["text"] == "plain\n")
        let notJSON = try Self.run(d, "python3", "print('plain')")
        #expect(notJSON.code == "invalid_input" && notJSON.details?["reason"] == "stdout_not_json")
        let failing = try Self.run(d, "python3", "import sys; print('oops', file=sys.stderr); sys.exit(3)")
        #expect(failing.code == "invalid_input" && failing.details?["exit_code"] == .int(3))
        #expect(failing.details?["stderr"] == "oops\n")
        try Self.expectCleanRun(d, after: py, previousFolder: folder)
    }

    @Test func aScriptAllocatingPastMemoryMBIsKilledAndNamed() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        // 16 MiB fits in 48; 96 MiB does not: the edge from both sides.
        let fits = try Self.run(d, "python3", "x = b'a' * (16 << 20); print(len(x) >> 20)", limits: ["memory_mb": 48])
        #expect(fits.output?["result"] == .int(16), "\(String(describing: fits.details))")
        let r = try Self.run(d, "python3", "x = b'a' * (96 << 20); print(1)", limits: ["memory_mb": 48])
        #expect(r.code == "resource_exhausted", "\(String(describing: r.message))")
        #expect(r.details?["limit"] == "memory_mb" && r.details?["value"] == .int(48))
        #expect(r.message?.contains("memory_mb") == true)
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aScriptForkingPastPidsFailsNamedAndItsChildrenAreKilled() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let r = try Self.run(d, "python3", """
            import os, sys, time
            kids = []
            for i in range(20):
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                kids.append(pid)
                print(pid, file=sys.stderr, flush=True)
            """, limits: ["pids": 4])
        #expect(r.code == "resource_exhausted", "\(String(describing: r.message))")
        #expect(r.details?["limit"] == "pids" && r.details?["value"] == .int(4))
        // pids 4: the script and three children; the fourth fork fails with EAGAIN.
        let kids = (r.details?["stderr"]?.stringValue ?? "").split(separator: "\n").compactMap { Int64($0) }
        #expect(kids.count == 3, "children started: \(kids)")
        #expect(r.details?["stderr"]?.stringValue?.contains("BlockingIOError") == true)
        for kid in kids { #expect(try d.waitUntil(3) { !Self.alive(kid) }, "child \(kid) survived its run") }
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aScriptLoopingPastCpuSecondsIsKilledNamed() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let r = try Self.run(d, "python3", "while True: pass", limits: ["cpu_seconds": 1, "wall_ms": 20000])
        #expect(r.code == "resource_exhausted", "\(String(describing: r.message))")
        #expect(r.details?["limit"] == "cpu_seconds")
        let cpu = r.details?["cpu_ms"]?.doubleValue ?? 0
        #expect(cpu >= 800 && cpu < 3000, "cpu_ms \(cpu)")
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aScriptSleepingPastWallMsIsATimeoutNamed() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let started = Date()
        let r = try Self.run(d, "python3", "import time; time.sleep(30)", limits: ["wall_ms": 400])
        #expect(r.code == "timeout", "\(String(describing: r.message))")
        #expect(r.details?["limit"] == "wall_ms" && r.details?["value"] == .int(400))
        #expect(Date().timeIntervalSince(started) < 5)
        let sh = try Self.run(d, "sh", "sleep 30", limits: ["wall_ms": 300])
        #expect(sh.code == "timeout" && sh.details?["limit"] == "wall_ms")
        try Self.expectCleanRun(d, after: r)
    }

    @Test func stdoutPastItsCapFailsAndStderrPastItsCapIsCut() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let ok = try Self.run(d, "python3", "print('\"' + 'x' * 997 + '\"')", limits: ["stdout_bytes": 1000])
        #expect(ok.code == nil, "1000 bytes fit a 1000-byte cap: \(String(describing: ok.message))")
        let r = try Self.run(d, "python3", "print('x' * 1001)", limits: ["stdout_bytes": 1000])
        #expect(r.code == "resource_exhausted" && r.details?["limit"] == "stdout_bytes", "\(String(describing: r.message))")
        let err = try Self.run(d, "python3", "import sys; sys.stderr.write('e' * 5000); print(1)", limits: ["stderr_bytes": 100])
        #expect(err.output?["result"] == .int(1))
        #expect(err.output?["stderr"]?.stringValue?.count == 100)
        #expect(err.output?["stderr_truncated"] == true)
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aScriptCannotOpenAnInetOrUnixSocket() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        let r = try Self.run(d, "python3", """
            import socket, json
            out = {}
            for name, family in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6), ("unix", socket.AF_UNIX)):
                try:
                    socket.socket(family, socket.SOCK_STREAM)
                    out[name] = "opened"
                except OSError as e:
                    out[name] = e.errno
            print(json.dumps(out))
            """)
        #expect(r.output?["result"] == ["inet": .int(Int64(EACCES)), "inet6": .int(Int64(EACCES)), "unix": .int(Int64(EACCES))],
                "\(String(describing: r.output)) \(String(describing: r.details))")
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aScriptCannotReadAnotherLiveRunsTempFolder() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        // Run A writes a secret in its folder and stays alive; run B, at the same time, tries to read it.
        let a = DispatchQueue(label: "run-a")
        nonisolated(unsafe) var first: Outcome?
        let done = DispatchSemaphore(value: 0)
        a.async {
            first = try? Self.run(d, "python3", "import time\nopen('secret.txt', 'w').write('s3cret')\ntime.sleep(3)\nprint(1)")
            done.signal()
        }
        let root = d.dataDir + "/script-tmp"
        var folder: String?
        _ = d.waitUntil(5) {
            folder = (try? FileManager.default.contentsOfDirectory(atPath: root))?
                .map { root + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0 + "/secret.txt") }
            return folder != nil
        }
        let target = try #require(folder, "run A's folder never appeared")
        let b = try Self.run(d, "python3", """
            import json, os
            out = {}
            for name, f in (("read", lambda: open(\(Self.pyString(target + "/secret.txt"))).read()),
                            ("list", lambda: os.listdir(\(Self.pyString(target)))),
                            ("list_root", lambda: os.listdir(\(Self.pyString(root))))):
                try:
                    out[name] = f()
                except OSError as e:
                    out[name] = e.errno
            print(json.dumps(out))
            """)
        #expect(b.output?["result"] == ["read": .int(Int64(EACCES)), "list": .int(Int64(EACCES)), "list_root": .int(Int64(EACCES))],
                "\(String(describing: b.output)) \(String(describing: b.details))")
        #expect(FileManager.default.fileExists(atPath: target + "/secret.txt"), "run A was still live during run B")
        done.wait()
        #expect(first?.output?["result"] == .int(1))
        try Self.expectCleanRun(d, after: b, previousFolder: target)
    }

    @Test func aChildLeftBehindIsKilledWhenTheScriptReturns() throws {
        try Self.requireCgroups()
        let d = try Daemon()
        // One child keeps the output pipes; a second detaches (new session, fds closed) to hide.
        let r = try Self.run(d, "python3", """
            import os, time, json
            held = os.fork()
            if held == 0:
                time.sleep(60); os._exit(0)
            r, w = os.pipe()
            hidden = os.fork()
            if hidden == 0:
                os.setsid()
                os.write(w, str(os.getpid()).encode()); os.close(w)
                for fd in (0, 1, 2): os.close(fd)
                time.sleep(60); os._exit(0)
            os.close(w)
            print(json.dumps({"held": held, "hidden": int(os.read(r, 20))}))
            """)
        #expect(r.code == nil, "\(String(describing: r.message)) \(String(describing: r.details))")
        let held = try #require(r.output?["result"]?["held"]?.intValue)
        let hidden = try #require(r.output?["result"]?["hidden"]?.intValue)
        #expect(r.output?["leftover_pids_killed"]?.arrayValue?.contains(.int(held)) == true, "\(String(describing: r.output))")
        #expect(try d.waitUntil(3) { !Self.alive(held) }, "the child holding the pipes (\(held)) survived")
        #expect(try d.waitUntil(3) { !Self.alive(hidden) }, "the detached child (\(hidden)) survived")
        try Self.expectCleanRun(d, after: r)
    }

    @Test func aMissingLanguageAndALimitAboveTheLayersMaximumAreInvalidInput() throws {
        try Self.requireCgroups()
        let d = try Daemon(config: """
            layers:
              compute-script:
                interpreters: {node: /nonexistent/node}
                maxima: {memory_mb: 64}
            """)
        let node = try Self.run(d, "node", "console.log(1)")
        #expect(node.code == "invalid_input" && node.message?.contains("not installed") == true, "\(String(describing: node.message))")
        let over = try Self.run(d, "python3", "print(1)", limits: ["memory_mb": 65])
        #expect(over.code == "invalid_input" && over.message?.contains("maxima.memory_mb") == true, "\(String(describing: over.message))")
        let edge = try Self.run(d, "python3", "print(1)", limits: ["memory_mb": 64])
        #expect(edge.output?["result"] == .int(1), "\(String(describing: edge.message))")
    }

    static func pyString(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
