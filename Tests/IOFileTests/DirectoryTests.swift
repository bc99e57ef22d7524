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

    @Test func listPagesWithLimitAndCursorUpToTheSetting() async throws {
        var settings = IOFileSettings()
        settings.maxListEntries = 3
        let f = try Fixture(settings: settings)
        for name in ["e", "a", "d", "b", "c"] { try f.writeRaw(f.root + "/" + name, []) }
        let first = try await f.call("list", [:])
        #expect(first["entries"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a", "b", "c"])
        #expect(first["next_cursor"] == "c")
        let second = try await f.call("list", ["cursor": "c"])
        #expect(second["entries"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["d", "e"])
        #expect(second["next_cursor"] == nil)
        let small = try await f.call("list", ["limit": 2, "cursor": "a"])
        #expect(small["entries"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["b", "c"])
        #expect(small["next_cursor"] == "c")
        let over = await f.failure("list", ["limit": 4])
        #expect(over?.code == .invalidInput)
        #expect(over?.message.contains("max_list_entries") == true)
    }

    @Test func listWalkOverTheScanBoundIsResourceExhausted() async throws {
        var settings = IOFileSettings()
        settings.maxListScan = 4
        let f = try Fixture(settings: settings)
        for n in 0..<4 { try f.writeRaw(f.root + "/\(n)", []) }
        #expect(try await f.call("list", [:])["entries"]?.arrayValue?.count == 4)
        try f.writeRaw(f.root + "/4", [])
        let e = await f.failure("list", [:])
        #expect(e?.code == .resourceExhausted)
        #expect(e?.message.contains("max_list_scan") == true)
    }

    @Test func listRecursesToDepthAndFiltersByGlob() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a/b/c/deep.csv", "content": "x", "create_dirs": true])
        _ = try await f.call("write", ["path": "a/top.csv", "content": "x"])
        _ = try await f.call("write", ["path": "a/b/mid.txt", "content": "x"])
        #expect(symlink("b", f.root + "/a/link") == 0)
        func names(_ input: JSONValue) async throws -> [String] {
            try await f.call("list", input)["entries"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        #expect(try await names(["path": "a"]) == ["b", "link", "top.csv"])
        #expect(try await names(["path": "a", "depth": 1]) == ["b", "b/c", "b/mid.txt", "link", "top.csv"])
        // The symlinked directory is listed, never descended.
        #expect(try await names(["path": "a", "depth": 5]) == ["b", "b/c", "b/c/deep.csv", "b/mid.txt", "link", "top.csv"])
        #expect(try await names(["path": "a", "depth": 5, "glob": "*.csv"]) == ["b/c/deep.csv", "top.csv"])
        #expect(try await names(["path": "a", "depth": 5, "glob": "b/*"]) == ["b/c", "b/mid.txt"])
        let e = await f.failure("list", ["depth": 65])
        #expect(e?.code == .invalidInput)
    }

    @Test func listNeverShowsTempFiles() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/.jalm-tmp-deadbeef", Array("half".utf8))
        try f.writeRaw(f.root + "/a.txt", [])
        let out = try await f.call("list", [:])
        #expect(out["entries"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a.txt"])
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
