#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct DeleteMoveTests {
    @Test func deleteRemovesAFile() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        let out = try await f.call("delete", ["path": "a.txt"])
        #expect(out == ["deleted": true])
        #expect(f.namesOnDisk() == [])
    }

    @Test func deleteOfMissingIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("delete", ["path": "a.txt"])
        #expect(e?.code == .notFound)
    }

    @Test func deleteOfEmptyDirectoryWorksWithoutRecursive() async throws {
        let f = try Fixture()
        _ = try await f.call("mkdir", ["path": "d"])
        _ = try await f.call("delete", ["path": "d"])
        #expect(f.namesOnDisk() == [])
    }

    @Test func deleteOfNonEmptyDirectoryWithoutRecursiveIsConflict() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "d/a.txt", "content": "a", "create_dirs": true])
        let e = await f.failure("delete", ["path": "d"])
        #expect(e?.code == .conflict)
        #expect(f.exists(f.root + "/d/a.txt"))
    }

    @Test func recursiveDeleteRemovesTheTreeButNotSymlinkTargets() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "d/e/a.txt", "content": "a", "create_dirs": true])
        #expect(symlink(f.outside, f.root + "/d/e/out") == 0)
        _ = try await f.call("delete", ["path": "d", "recursive": true])
        #expect(f.namesOnDisk() == [])
        #expect(f.exists(f.outside + "/secret.txt"))
    }

    @Test func moveRenamesAFile() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        let out = try await f.call("move", ["from": "a.txt", "to": "b.txt"])
        #expect(out == ["from": "a.txt", "to": "b.txt"])
        #expect(f.namesOnDisk() == ["b.txt"])
    }

    @Test func moveOntoExistingTargetWithoutOverwriteIsConflict() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        _ = try await f.call("write", ["path": "b.txt", "content": "b"])
        let e = await f.failure("move", ["from": "a.txt", "to": "b.txt"])
        #expect(e?.code == .conflict)
        #expect(f.readRaw(f.root + "/b.txt") == Array("b".utf8))
    }

    @Test func moveWithOverwriteReplacesTheTarget() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        _ = try await f.call("write", ["path": "b.txt", "content": "b"])
        _ = try await f.call("move", ["from": "a.txt", "to": "b.txt", "overwrite": true])
        #expect(f.namesOnDisk() == ["b.txt"])
        #expect(f.readRaw(f.root + "/b.txt") == Array("a".utf8))
    }

    @Test func moveOfMissingSourceIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("move", ["from": "a.txt", "to": "b.txt"])
        #expect(e?.code == .notFound)
        #expect(e?.message.contains("a.txt") == true)
    }

    @Test func moveOutOfTheRootIsRefused() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a"])
        let e = await f.failure("move", ["from": "a.txt", "to": "../outside/a.txt"])
        #expect(e?.code == .invalidInput)
        #expect(f.namesOnDisk() == ["a.txt"])
    }
}
