#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct WriteTests {
    @Test func writeCreatesTheFileAndReportsItsSize() async throws {
        let f = try Fixture()
        let out = try await f.call("write", ["path": "a.txt", "content": "hello"])
        #expect(out == ["path": "a.txt", "size": 5])
        #expect(f.readRaw(f.root + "/a.txt") == Array("hello".utf8))
    }

    @Test func writeReplacesAnExistingFile() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a much longer first version"])
        _ = try await f.call("write", ["path": "a.txt", "content": "short"])
        #expect(f.readRaw(f.root + "/a.txt") == Array("short".utf8))
    }

    @Test func writeLeavesNoTempFileBehind() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "one"])
        _ = try await f.call("write", ["path": "a.txt", "content": "two"])
        #expect(f.namesOnDisk() == ["a.txt"])
    }

    @Test func failedWriteLeavesNoTempFileBehind() async throws {
        let f = try Fixture()
        _ = try await f.call("mkdir", ["path": "target"])
        let e = await f.failure("write", ["path": "target", "content": "x"])
        #expect(e?.code == .invalidInput)  // EISDIR from renameat2
        #expect(f.namesOnDisk() == ["target"])
    }

    @Test func writeIntoMissingDirectoryWithoutCreateDirsIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "x/y/a.txt", "content": "x"])
        #expect(e?.code == .notFound)
        #expect(f.namesOnDisk() == [])
    }

    @Test func writeWithCreateDirsMakesTheParents() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "x/y/a.txt", "content": "x", "create_dirs": true])
        #expect(f.readRaw(f.root + "/x/y/a.txt") == Array("x".utf8))
    }

    @Test func writeOverMaxBytesIsResourceExhausted() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "a.txt", "content": "12345", "max_bytes": 4])
        #expect(e?.code == .resourceExhausted)
        #expect(f.namesOnDisk() == [])
    }

    @Test func writeToDotIsRefused() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "sub/..", "content": "x"])
        #expect(e?.code == .invalidInput)
    }

    @Test func appendCreatesThenGrowsTheFile() async throws {
        let f = try Fixture()
        let first = try await f.call("append", ["path": "log.txt", "content": "one\n"])
        let second = try await f.call("append", ["path": "log.txt", "content": "two\n"])
        #expect(first["size"] == 4)
        #expect(second == ["path": "log.txt", "size": 8])
        #expect(f.readRaw(f.root + "/log.txt") == Array("one\ntwo\n".utf8))
    }

    @Test func appendWithoutCreateToMissingFileIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("append", ["path": "log.txt", "content": "x", "create": false])
        #expect(e?.code == .notFound)
        #expect(!f.exists(f.root + "/log.txt"))
    }
}
