#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct DryRunTests {
    @Test func writeTypeOpsChangeNothingInADryRun() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/a.txt", Array("old".utf8))
        _ = Glibc.mkdir(f.root + "/full", 0o755)
        try f.writeRaw(f.root + "/full/x", [])
        let before = f.fingerprint(f.root + "/a.txt")
        let calls: [(String, JSONValue, JSONValue)] = [
            ("write", ["path": "a.txt", "content": "new"], ["path": "a.txt", "size": 3, "dry_run": true]),
            ("write", ["path": "n/b.txt", "content": "x", "create_dirs": true], ["path": "n/b.txt", "size": 1, "dry_run": true]),
            ("append", ["path": "a.txt", "content": "++"], ["path": "a.txt", "size": 5, "dry_run": true]),
            ("append", ["path": "new.log", "content": "++"], ["path": "new.log", "size": 2, "dry_run": true]),
            ("delete", ["path": "a.txt"], ["deleted": true, "dry_run": true]),
            ("delete", ["path": "full", "recursive": true], ["deleted": true, "dry_run": true]),
            ("move", ["from": "a.txt", "to": "b.txt"], ["from": "a.txt", "to": "b.txt", "dry_run": true]),
            ("mkdir", ["path": "m/n"], ["path": "m/n", "created": true, "dry_run": true]),
            ("mkdir", ["path": "full"], ["path": "full", "created": false, "dry_run": true]),
            ("copy", ["from": "a.txt", "to": "c.txt"], ["from": "a.txt", "to": "c.txt", "size": 3, "dry_run": true]),
            ("csv.write", ["path": "t.csv", "rows": [["a"]]], ["path": "t.csv", "row_count": 1, "size": 3, "dry_run": true]),
        ]
        for (op, input, expected) in calls {
            let out = try await f.dryRun(op, input)
            #expect(out == expected, "\(op) \(input)")
        }
        #expect(f.namesOnDisk() == ["a.txt", "full"])
        #expect(f.namesOnDisk("full") == ["x"])
        let after = f.fingerprint(f.root + "/a.txt")
        #expect(after.0 == before.0 && after.1 == before.1)
    }

    @Test func aDryRunReportsTheErrorTheRealRunWould() async throws {
        let f = try Fixture()
        _ = Glibc.mkdir(f.root + "/full", 0o755)
        try f.writeRaw(f.root + "/full/x", [])
        try f.writeRaw(f.root + "/b.txt", [])
        #expect(try await dryFailure(f, "write", ["path": "nodir/a", "content": "x"]) == .notFound)
        #expect(try await dryFailure(f, "write", ["path": "../escape", "content": "x"]) == .invalidInput)
        #expect(try await dryFailure(f, "write", ["path": "full", "content": "x"]) == .invalidInput)
        #expect(try await dryFailure(f, "delete", ["path": "missing"]) == .notFound)
        #expect(try await dryFailure(f, "delete", ["path": "full"]) == .conflict)
        #expect(try await dryFailure(f, "move", ["from": "full/x", "to": "b.txt"]) == .conflict)
        #expect(try await dryFailure(f, "copy", ["from": "full/x", "to": "b.txt"]) == .conflict)
        #expect(try await dryFailure(f, "csv.write", ["path": "b.txt", "rows": [["a"]], "overwrite": false]) == .conflict)
        #expect(try await dryFailure(f, "append", ["path": "log", "content": "x", "create": false]) == .notFound)
        #expect(f.namesOnDisk() == ["b.txt", "full"])
    }

    private func dryFailure(_ f: Fixture, _ op: String, _ input: JSONValue) async throws -> ErrorCode? {
        do {
            _ = try await f.dryRun(op, input)
            return nil
        } catch {
            return (error as? CallFailure)?.code
        }
    }
}

@Suite struct TempFileTests {
    @Test func startUpSweepsTempFilesNobodyHolds() throws {
        let f = try Fixture()
        _ = Glibc.mkdir(f.root + "/d", 0o755)
        try f.writeRaw(f.root + "/d/.jalm-tmp-0123", Array("half a write".utf8))
        try f.writeRaw(f.root + "/d/keep.txt", [])
        // One still held by a live writer (its flock) is left alone.
        let held = open(f.root + "/.jalm-tmp-4567", O_WRONLY | O_CREAT, 0o644)
        #expect(flock(held, LOCK_EX) == 0)
        defer { close(held) }
        _ = try IOFileHandler(root: f.root)
        #expect(f.namesOnDisk("d") == ["keep.txt"])
        #expect(f.exists(f.root + "/.jalm-tmp-4567"))
    }

    @Test func opsRefuseToNameATempFile() async throws {
        let f = try Fixture()
        for (op, input): (String, JSONValue) in [("write", ["path": ".jalm-tmp-1", "content": "x"]),
                                                 ("delete", ["path": "d/.jalm-tmp-1"]),
                                                 ("move", ["from": ".jalm-tmp-1", "to": "x"])] {
            #expect(await f.failure(op, input)?.code == .invalidInput, "\(op)")
        }
    }
}

/// The confinement rests on one function: no other source file of the layer may call openat2 or open(2)
/// a capsule's path, and no fstatat may follow a symlink, so a new op cannot bypass RESOLVE_BENEATH by accident.
@Suite struct SingleOpenerTests {
    @Test func onlyTheConfinementFileCallsOpenat2() throws {
        let dir = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let sources = "/" + dir + "/Sources/Layers/IOFile"
        guard let d = opendir(sources) else { Issue.record("cannot open \(sources)"); return }
        defer { closedir(d) }
        var checked = 0
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            guard name.hasSuffix(".swift") else { continue }
            let fixture = try Fixture()
            let text = String(decoding: fixture.readRaw(sources + "/" + name) ?? [], as: UTF8.self)
            checked += 1
            let opens = ["jalm_openat2(", " open(", "openat(", "fopen(", "Glibc.open("]
            // Every other lookup by name must not follow a symlink: only openat2 may resolve one.
            for line in text.split(separator: "\n") where line.contains("fstatat(") && !line.contains("///") {
                #expect(line.contains("AT_SYMLINK_NOFOLLOW") || line.contains("jalm_at_empty_path()"),
                        "\(name): \(line)")
            }
            for call in opens where text.contains(call) {
                #expect(name == "IOFileHandler+Confinement.swift" && call == "jalm_openat2(" || name == "IOFileHandler.swift" && call == " open(",
                        "\(name) calls \(call)")
            }
        }
        #expect(checked > 10)
    }
}
