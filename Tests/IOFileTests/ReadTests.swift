#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct ReadTests {
    @Test func readReturnsTextContentAndSize() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/a.txt", Array("héllo".utf8))
        let out = try await f.call("read", ["path": "a.txt"])
        #expect(out == ["content": "héllo", "encoding": "text", "size": 6])
    }

    @Test func readOfInvalidUTF8AsTextIsInvalidInput() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/bin", [0xFF, 0xFE, 0x00, 0x80])
        let e = await f.failure("read", ["path": "bin"])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("base64") == true)
    }

    @Test func binaryBytesRoundTripThroughBase64() async throws {
        let f = try Fixture()
        let bytes = (0...255).map { UInt8($0) } + [0xFF, 0x00]
        _ = try await f.call("write", ["path": "bin", "content": .string(TestBase64.encode(bytes)), "encoding": "base64"])
        #expect(f.readRaw(f.root + "/bin") == bytes)
        let out = try await f.call("read", ["path": "bin", "encoding": "base64"])
        #expect(out["encoding"] == "base64")
        #expect(out["size"] == .int(Int64(bytes.count)))
        #expect(TestBase64.decode(out["content"]?.stringValue ?? "") == bytes)
    }

    @Test func invalidBase64ContentIsInvalidInput() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "bin", "content": "no*base64", "encoding": "base64"])
        #expect(e?.code == .invalidInput)
    }

    @Test func layerBase64MatchesKnownVectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func readWithinMaxBytesSucceeds() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/a.txt", Array("12345".utf8))
        let out = try await f.call("read", ["path": "a.txt", "max_bytes": 5])
        #expect(out["size"] == 5)
    }

    @Test func readOverMaxBytesIsResourceExhausted() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/a.txt", Array("123456".utf8))
        let e = await f.failure("read", ["path": "a.txt", "max_bytes": 5])
        #expect(e?.code == .resourceExhausted)
        #expect(e?.message.contains("6 bytes") == true)
        #expect(e?.message.contains("5 bytes") == true)
    }

    @Test func maxBytesAboveTheSettingIsInvalidInput() async throws {
        let f = try Fixture()
        let e = await f.failure("read", ["path": "a.txt", "max_bytes": .int(10 * 1024 * 1024 + 1)])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("max_read_bytes") == true)
    }

    @Test func readOfMissingFileIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("read", ["path": "missing.txt"])
        #expect(e?.code == .notFound)
        #expect(e?.message.contains("missing.txt") == true)
    }

    @Test func readOfDirectoryIsInvalidInput() async throws {
        let f = try Fixture()
        _ = try await f.call("mkdir", ["path": "d"])
        let e = await f.failure("read", ["path": "d"])
        #expect(e?.code == .invalidInput)
    }
}
