#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct DirectoryTests {
    @Test func listIsSortedByNameWithTypes() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "b.txt", "content": "bb"])
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        _ = try await f.call("mkdir", ["path": "c"])
        #expect(symlink("a.txt", f.root + "/d") == 0)
        let out = try await f.call("list", [:])
        #expect(out == ["entries": [
            ["name": "a.txt", "type": "file", "size": 1],
            ["name": "b.txt", "type": "file", "size": 2],
            ["name": "c", "type": "dir", "size": 0],
            ["name": "d", "type": "symlink", "size": 5],
        ]])
    }

    @Test func listOverTheEntryCapIsResourceExhausted() async throws {
        let f = try Fixture()
        _ = try await f.call("mkdir", ["path": "many"])
        for n in 0...IOFileLimits.maxListEntries {
            let fd = open(f.root + "/many/\(n)", O_WRONLY | O_CREAT, 0o644)
            #expect(fd >= 0)
            close(fd)
        }
        let e = await f.failure("list", ["path": "many"])
        #expect(e?.code == .resourceExhausted)
        #expect(e?.message.contains("10000") == true)
    }

    @Test func listOfMissingDirectoryIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("list", ["path": "nope"])
        #expect(e?.code == .notFound)
    }

    @Test func listOfAFileIsInvalidInput() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        let e = await f.failure("list", ["path": "a.txt"])
        #expect(e?.code == .invalidInput)
    }

    @Test func statDescribesAFile() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "hello"])
        #expect(chmod(f.root + "/a.txt", 0o640) == 0)
        let out = try await f.call("stat", ["path": "a.txt"])
        #expect(out["type"] == "file")
        #expect(out["size"] == 5)
        #expect(out["mode"] == "0640")
        #expect((out["mtime_ms"]?.intValue ?? 0) > 1_600_000_000_000)
    }

    @Test func statOfMissingIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("stat", ["path": "missing"])
        #expect(e?.code == .notFound)
    }

    @Test func statDoesNotFollowASymlink() async throws {
        let f = try Fixture()
        #expect(symlink(f.outside + "/secret.txt", f.root + "/leak") == 0)
        let out = try await f.call("stat", ["path": "leak"])
        #expect(out["type"] == "symlink")
    }

    @Test func statOfTheRootIsADirectory() async throws {
        let f = try Fixture()
        let out = try await f.call("stat", ["path": "."])
        #expect(out["type"] == "dir")
    }

    @Test func mkdirCreatesParentsAndReportsCreated() async throws {
        let f = try Fixture()
        let out = try await f.call("mkdir", ["path": "x/y/z"])
        #expect(out == ["path": "x/y/z", "created": true])
        #expect(f.exists(f.root + "/x/y/z"))
    }

    @Test func mkdirOfExistingDirectoryReportsNotCreated() async throws {
        let f = try Fixture()
        _ = try await f.call("mkdir", ["path": "x"])
        let out = try await f.call("mkdir", ["path": "x"])
        #expect(out == ["path": "x", "created": false])
    }

    @Test func mkdirWithoutParentsIntoMissingDirectoryIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("mkdir", ["path": "x/y", "parents": false])
        #expect(e?.code == .notFound)
        #expect(!f.exists(f.root + "/x"))
    }

    @Test func mkdirOverAFileIsConflict() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a", "content": "a"])
        let e = await f.failure("mkdir", ["path": "a"])
        #expect(e?.code == .conflict)
    }
}
