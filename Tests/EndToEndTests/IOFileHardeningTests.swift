#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// io-file through the real daemon with its sandbox enforced: the ways out of the data root are refused by
/// openat2 (the first wall) before Landlock (the second) is ever asked, and a write killed with the layer
/// leaves the old file or the new one.
@Suite(.serialized) struct IOFileHardeningTests {
    static let sentinel = "SENTINEL-e2e-9c1d"

    /// The data root is `<data>/files`; the sentinel sits in `<data>`, one level above it, and in /tmp.
    @Test func traversalCorpusIsRefusedAndTheSentinelIsUntouched() throws {
        let daemon = try Daemon()
        let layer = try daemon.layer("io-file")
        guard layer["sandbox"]?.stringValue.map({ $0 != "off" }) == true else {
            print("SKIP: io-file runs without a sandbox on this machine (\(layer["sandbox"] ?? .null)); the corpus still runs")
            return
        }
        let files = daemon.dataDir + "/files"
        try FileManager.default.createDirectory(atPath: files + "/sub", withIntermediateDirectories: true)
        let sentinelPath = daemon.dataDir + "/secret.txt"
        try Self.sentinel.write(toFile: sentinelPath, atomically: false, encoding: .utf8)
        symlink(sentinelPath, files + "/leak")
        symlink("../secret.txt", files + "/relleak")
        symlink("..", files + "/up")
        symlink("../../secret.txt", files + "/sub/deep")
        symlink("/proc/self/root" + daemon.dataDir, files + "/proc")
        let hardlinked = link(sentinelPath, files + "/hard") == 0
        let before = try FileManager.default.attributesOfItem(atPath: sentinelPath)[.modificationDate] as? Date
        let pid = try daemon.layerPID("io-file")

        var corpus = ["../secret.txt", "sub/../../secret.txt", sentinelPath, "/proc/self/root" + sentinelPath,
                      "/proc/self/cwd/secret.txt", "leak", "relleak", "up/secret.txt", "sub/deep", "proc/secret.txt",
                      "a\u{0}b", String(repeating: "x", count: 256), String(repeating: "d/", count: 2048) + "x"]
        if hardlinked { corpus.append("hard") } else { print("SKIP: no hardlink across the data folder (errno \(errno))") }
        let lookAlikes = ["..\u{2215}secret.txt", "\u{FF0E}\u{FF0E}/secret.txt", "..\u{FF0F}secret.txt"]
        for path in corpus + lookAlikes {
            for (op, input): (String, JSONValue) in [("read", ["path": .string(path)]), ("checksum", ["path": .string(path)]),
                                                     ("json.read", ["path": .string(path)]),
                                                     ("append", ["path": .string(path), "content": "X"]),
                                                     ("copy", ["from": .string(path), "to": "stolen"])] {
                let (status, view) = try daemon.request("POST", "/exec?wait=30", json: ["steps": [
                    ["id": "s", "layer": "io-file", "op": .string(op), "input": input, "retry": ["max": 0]],
                ]])
                let label = "\(op) \(path.prefix(60).debugDescription)"
                #expect(!JSONWriter.string(view).contains("SENTINEL"), "\(label) leaked: \(view)")
                let code = status == 422 ? view["code"]?.stringValue : view["steps"]?[0]?["error"]?["code"]?.stringValue
                if lookAlikes.contains(path) {
                    // Only a strange name inside the root: reads find nothing, append may create it.
                    #expect(code != "sandbox_violation" && code != "internal", "\(label): \(view)")
                    if op == "read" { #expect(code == "not_found", "\(label): \(view)") }
                } else {
                    #expect(code == "invalid_input", "\(label): \(status) \(view)")
                }
            }
        }
        #expect((try? String(contentsOfFile: sentinelPath, encoding: .utf8)) == Self.sentinel)
        #expect(try FileManager.default.attributesOfItem(atPath: sentinelPath)[.modificationDate] as? Date == before)
        #expect(FileManager.default.contents(atPath: files + "/stolen").map { !String(decoding: $0, as: UTF8.self).contains("SENTINEL") } ?? true)
        #expect(try daemon.layerPID("io-file") == pid, "no refusal may cost the layer its process (sandbox kill)")
    }

    /// kill -9 of the layer while a large write is in flight, many times: the file on disk is always
    /// exactly the old or the new content, and after the layer restarts no temp file is left.
    @Test func killedWriteLeavesOldOrNewContentAndNoTempFile() throws {
        let daemon = try Daemon(config: "restart_base_delay: 10ms\nrestart_max_delay: 50ms\nmax_restarts: 1000\nmax_body_bytes: 16777216")
        let size = 4 * 1024 * 1024
        let files = daemon.dataDir + "/files"
        let contents = ["A", "B"].map { String(repeating: $0, count: size) }
        func write(_ n: Int) throws -> (Int, JSONValue) {
            try daemon.request("POST", "/exec?wait=60", json: ["steps": [
                ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "big.txt", "content": .string(contents[n % 2])],
                 "retry": ["max": 0]],
            ]], timeout: 90)
        }
        #expect(try write(0).1["state"] == "completed")
        var killedMidWrite = 0, completed = 0
        var seen = Set<UInt8>()
        var versions: [String: Int] = [:]
        let iterations = 12
        for i in 1...iterations {
            let pid = try #require(try daemon.layerPID("io-file"))
            // The killer waits for the write's temp file to appear (the layer is writing), then waits 0..~40 ms
            // more (filling the temp, its fsync, the rename, the directory fsync, or just after) and kills.
            let jitter = UInt32([0, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 40_000][i % 8])
            let killer = Thread {
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline {
                    if let d = opendir(files) {
                        var found = false
                        while let e = readdir(d) {
                            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
                            if name.hasPrefix(".jalm-tmp-") { found = true; break }
                        }
                        closedir(d)
                        if found {
                            usleep(jitter)
                            kill(pid, SIGKILL)
                            return
                        }
                    }
                    usleep(50)
                }
            }
            killer.start()
            let (_, view) = try write(i)
            while !killer.isFinished { usleep(1_000) }
            if view["state"] == "completed" { completed += 1 } else { killedMidWrite += 1 }
            if view["state"] != "completed" {
                #expect(try daemon.waitUntil(15) { (try daemon.layerPID("io-file")).map { $0 != pid } ?? false }, "no restart")
            }
            let bytes = try #require(FileManager.default.contents(atPath: files + "/big.txt"))
            let uniform = bytes.count == size && (bytes.first.map { b in bytes.allSatisfy { $0 == b } } ?? false)
            #expect(uniform, "iteration \(i): \(bytes.count) bytes, not one whole version")
            let newByte = UInt8(ascii: i % 2 == 0 ? "A" : "B")
            if let b = bytes.first { seen.insert(b); versions[b == newByte ? "new" : "old", default: 0] += 1 }
            // The new process swept what the killed one left: wait for its hello, then look on disk.
            #expect(try daemon.waitUntil(15) { try daemon.layer("io-file")["processes"]?[0]?["state"] == "ready" })
            let temps = try FileManager.default.contentsOfDirectory(atPath: files).filter { $0.hasPrefix(".jalm-tmp-") }
            #expect(temps.isEmpty, "iteration \(i): stray temp files \(temps)")
        }
        print("kill -9 during write: \(killedMidWrite) of \(iterations) writes killed in flight, \(completed) completed; "
              + "file afterwards old/new content: \(versions["old"] ?? 0)/\(versions["new"] ?? 0)")
        #expect(killedMidWrite > 0, "no kill landed while a write was in flight")
        let listed = try daemon.run(["steps": [["id": "l", "layer": "io-file", "op": "list", "input": [:]]]])
        #expect(listed["outputs"]?["l"]?["entries"] == [["name": "big.txt", "type": "file", "size": .int(Int64(size))]])
        #expect(!seen.isEmpty)
    }
}
