import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct SettingsTests {
    @Test func defaultsAndOverrides() throws {
        #expect(try IOFileSettings(config: [:]) == IOFileSettings())
        let s = try IOFileSettings(config: ["max_read_bytes": 10, "max_write_bytes": 20, "max_stream_bytes": 30,
                                            "max_list_entries": 40, "max_list_scan": 50, "max_csv_rows": 60,
                                            "allow_hardlinks": true])
        #expect(s.maxReadBytes == 10 && s.maxWriteBytes == 20 && s.maxStreamBytes == 30)
        #expect(s.maxListEntries == 40 && s.maxListScan == 50 && s.maxCSVRows == 60 && s.allowHardlinks)
    }

    @Test func badSettingsStopTheLayer() {
        for config: JSONValue in [["max_read_bytes": .int(64 * 1024 * 1024 + 1)], ["max_write_bytes": -1],
                                  ["max_list_entries": 0], ["allow_hardlinks": "yes"], ["max_reed_bytes": 1], "x"] {
            #expect(throws: SettingsError.self, "\(config)") { try IOFileSettings(config: config) }
        }
    }

    @Test func readAndWriteLimitsAtTheirEdges() async throws {
        var settings = IOFileSettings()
        settings.maxReadBytes = 5
        settings.maxWriteBytes = 4
        let f = try Fixture(settings: settings)
        #expect(try await f.call("write", ["path": "w", "content": "1234"])["size"] == 4)
        let w = await f.failure("write", ["path": "w", "content": "12345"])
        #expect(w?.code == .resourceExhausted)
        #expect(f.readRaw(f.root + "/w") == Array("1234".utf8))
        let a = await f.failure("append", ["path": "w", "content": "12345"])
        #expect(a?.code == .resourceExhausted)
        try f.writeRaw(f.root + "/r5", Array("12345".utf8))
        try f.writeRaw(f.root + "/r6", Array("123456".utf8))
        #expect(try await f.call("read", ["path": "r5"])["size"] == 5)
        #expect(await f.failure("read", ["path": "r6"])?.code == .resourceExhausted)
        #expect(await f.failure("json.read", ["path": "r6"])?.code == .resourceExhausted)
        #expect(await f.failure("csv.read", ["path": "r6"])?.code == .resourceExhausted)
        let raise = await f.failure("read", ["path": "r5", "max_bytes": 6])
        #expect(raise?.code == .invalidInput)
        #expect(raise?.message.contains("max_read_bytes") == true)
    }

    @Test func invalidUTF8TextIsAClearError() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/bin", [0xFF, 0xFE])
        let e = await f.failure("read", ["path": "bin"])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("UTF-8") == true)
        #expect(try await f.call("read", ["path": "bin", "encoding": "base64"])["content"] == "//4=")
    }
}
