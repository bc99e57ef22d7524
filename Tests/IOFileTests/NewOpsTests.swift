#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct CopyChecksumTests {
    @Test func copyMakesAnIdenticalFileAndReportsItsDigest() async throws {
        let f = try Fixture()
        let bytes = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try f.writeRaw(f.root + "/src.bin", bytes)
        let out = try await f.call("copy", ["from": "src.bin", "to": "d/dst.bin", "create_dirs": true, "sha256": true])
        #expect(out == ["from": "src.bin", "to": "d/dst.bin", "size": 700_000, "sha256": .string(SHA256.hex(bytes))])
        #expect(f.readRaw(f.root + "/d/dst.bin") == bytes)
        #expect(f.namesOnDisk("d") == ["dst.bin"])
    }

    @Test func copyOntoAnExistingTargetNeedsOverwrite() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/a", Array("new".utf8))
        try f.writeRaw(f.root + "/b", Array("old".utf8))
        var before = stat()
        stat(f.root, &before)
        usleep(20_000)
        let e = await f.failure("copy", ["from": "a", "to": "b"])
        #expect(e?.code == .conflict)
        // Refused before a temp file was made (its creation and removal would change the folder's mtime).
        var after = stat()
        stat(f.root, &after)
        #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        #expect(f.readRaw(f.root + "/b") == Array("old".utf8))
        #expect(f.namesOnDisk() == ["a", "b"])
        _ = try await f.call("copy", ["from": "a", "to": "b", "overwrite": true])
        #expect(f.readRaw(f.root + "/b") == Array("new".utf8))
    }

    @Test func copyAndChecksumStopAtMaxStreamBytes() async throws {
        var settings = IOFileSettings()
        settings.maxStreamBytes = 4
        let f = try Fixture(settings: settings)
        try f.writeRaw(f.root + "/four", Array("1234".utf8))
        try f.writeRaw(f.root + "/five", Array("12345".utf8))
        #expect(try await f.call("checksum", ["path": "four"])["size"] == 4)
        #expect(try await f.call("copy", ["from": "four", "to": "four2"])["size"] == 4)
        for (op, input): (String, JSONValue) in [("checksum", ["path": "five"]), ("copy", ["from": "five", "to": "five2"])] {
            let e = await f.failure(op, input)
            #expect(e?.code == .resourceExhausted, "\(op)")
            #expect(e?.message.contains("max_stream_bytes") == true, "\(op)")
        }
        #expect(!f.exists(f.root + "/five2"))
    }

    @Test func checksumIsSHA256OfTheContent() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/abc", Array("abc".utf8))
        let out = try await f.call("checksum", ["path": "abc"])
        #expect(out == ["path": "abc", "size": 3, "algorithm": "sha256",
                        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"])
        let e = await f.failure("checksum", ["path": "abc", "algorithm": "md5"])
        #expect(e?.code == .invalidInput)
    }

    @Test func readAndWriteReportSHA256OnRequest() async throws {
        let f = try Fixture()
        let w = try await f.call("write", ["path": "x", "content": "abc", "sha256": true])
        #expect(w["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let r = try await f.call("read", ["path": "x", "sha256": true])
        #expect(r["sha256"] == w["sha256"])
        #expect(try await f.call("read", ["path": "x"])["sha256"] == nil)
    }
}

@Suite struct StructuredFileTests {
    @Test func csvReadWithHeaderGivesObjects() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("id,name\r\n1,\"Doe, Jane\"\r\n2,Bob\r\n".utf8))
        let out = try await f.call("csv.read", ["path": "t.csv"])
        #expect(out == ["columns": ["id", "name"], "rows": [["id": "1", "name": "Doe, Jane"], ["id": "2", "name": "Bob"]],
                        "row_count": 2])
        let raw = try await f.call("csv.read", ["path": "t.csv", "header": false])
        #expect(raw["rows"]?[0] == ["id", "name"])
        #expect(raw["row_count"] == 3)
    }

    @Test func csvReadRowLimitAtItsEdge() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/t.csv", Array("h\n1\n2\n".utf8))
        #expect(try await f.call("csv.read", ["path": "t.csv", "max_rows": 2])["row_count"] == 2)
        let e = await f.failure("csv.read", ["path": "t.csv", "max_rows": 1])
        #expect(e?.code == .resourceExhausted)
    }

    @Test func csvReadRefusesRaggedRowsDuplicateColumnsAndBadText() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/ragged.csv", Array("a,b\n1\n".utf8))
        try f.writeRaw(f.root + "/dup.csv", Array("a,a\n1,2\n".utf8))
        try f.writeRaw(f.root + "/bin.csv", [0x61, 0x0A, 0xC3, 0x28])
        for name in ["ragged.csv", "dup.csv", "bin.csv"] {
            let e = await f.failure("csv.read", ["path": .string(name)])
            #expect(e?.code == .invalidInput, "\(name)")
        }
        let d = await f.failure("csv.read", ["path": "ragged.csv", "delimiter": "\""])
        #expect(d?.code == .invalidInput)
    }

    @Test func csvWriteQuotesAndReadsBack() async throws {
        let f = try Fixture()
        let rows: JSONValue = [["name": "a,b", "n": 1, "ok": true], ["name": "say \"x\"", "n": 2.5, "ok": .null]]
        let out = try await f.call("csv.write", ["path": "o.csv", "rows": rows, "columns": ["name", "n", "ok"]])
        let text = "name,n,ok\r\n\"a,b\",1,true\r\n\"say \"\"x\"\"\",2.5,\r\n"
        #expect(out == ["path": "o.csv", "row_count": 2, "size": .int(Int64(text.utf8.count))])
        #expect(f.readRaw(f.root + "/o.csv") == Array(text.utf8))
        let back = try await f.call("csv.read", ["path": "o.csv"])
        #expect(back["rows"]?[0] == ["name": "a,b", "n": "1", "ok": "true"])
        _ = try await f.call("csv.write", ["path": "arr.tsv", "rows": [["x", "y"]], "delimiter": "\t", "header": false])
        #expect(f.readRaw(f.root + "/arr.tsv") == Array("x\ty\r\n".utf8))
    }

    @Test func csvWriteRefusesBadRowsAndHonoursOverwriteAndLimits() async throws {
        var settings = IOFileSettings()
        settings.maxCSVRows = 2
        let f = try Fixture(settings: settings)
        for rows: JSONValue in [[["a": ["nested"]]], [42], [["a": 1], ["b": 2]]] {
            let e = await f.failure("csv.write", ["path": "x.csv", "rows": rows])
            #expect(e?.code == .invalidInput, "\(rows)")
        }
        let many = await f.failure("csv.write", ["path": "x.csv", "rows": [["1"], ["2"], ["3"]]])
        #expect(many?.code == .resourceExhausted)
        let big = await f.failure("csv.write", ["path": "x.csv", "rows": [["12345"]], "max_bytes": 6])
        #expect(big?.code == .resourceExhausted)
        #expect(try await f.call("csv.write", ["path": "x.csv", "rows": [["12345"]], "max_bytes": 7])["size"] == 7)
        let e = await f.failure("csv.write", ["path": "x.csv", "rows": [["1"]], "overwrite": false])
        #expect(e?.code == .conflict)
        #expect(f.namesOnDisk() == ["x.csv"])
    }

    @Test func jsonReadParsesAndBoundsTheFile() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/c.json", Array(#"{"a": [1, 2.5, "x", null, true]}"#.utf8))
        let out = try await f.call("json.read", ["path": "c.json"])
        #expect(out == ["content": ["a": [1, 2.5, "x", .null, true]], "size": 32])
        #expect(await f.failure("json.read", ["path": "c.json", "max_bytes": 31])?.code == .resourceExhausted)
        try f.writeRaw(f.root + "/bad.json", Array("{\"a\": ".utf8))
        let e = await f.failure("json.read", ["path": "bad.json"])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("bad.json") == true)
    }
}
