#if canImport(Glibc)
import Glibc
#endif
import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct ConfinementTests {
    @Test func dotDotThatStaysInsideIsAllowed() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a/../b.txt", "content": "x", "create_dirs": true])
        #expect(f.readRaw(f.root + "/b.txt") == Array("x".utf8))
    }

    @Test func dotDotThatEscapesIsRefused() async throws {
        let f = try Fixture()
        let e = await f.failure("read", ["path": "../outside/secret.txt"])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("escapes the data root") == true)
    }

    @Test func writeThroughEscapingParentIsRefused() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "../outside/new.txt", "content": "x"])
        #expect(e?.code == .invalidInput)
        #expect(!f.exists(f.outside + "/new.txt"))
    }

    @Test func absolutePathIsRefused() async throws {
        let f = try Fixture()
        let e = await f.failure("read", ["path": .string(f.outside + "/secret.txt")])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("escapes the data root") == true)
    }

    @Test func absolutePathIsRefusedForFinalComponentOps() async throws {
        let f = try Fixture()
        let e = await f.failure("delete", ["path": .string(f.outside + "/secret.txt")])
        #expect(e?.code == .invalidInput)
        #expect(f.exists(f.outside + "/secret.txt"))
    }

    @Test func symlinkInsideTheRootIsFollowed() async throws {
        let f = try Fixture()
        try f.writeRaw(f.root + "/real.txt", Array("inside".utf8))
        #expect(symlink("real.txt", f.root + "/link.txt") == 0)
        let out = try await f.call("read", ["path": "link.txt"])
        #expect(out["content"] == "inside")
    }

    @Test func symlinkPointingOutsideIsRefused() async throws {
        let f = try Fixture()
        #expect(symlink(f.outside + "/secret.txt", f.root + "/leak.txt") == 0)
        let e = await f.failure("read", ["path": "leak.txt"])
        #expect(e?.code == .invalidInput)
        #expect(e?.message.contains("escapes the data root") == true)
    }

    @Test func relativeSymlinkDirectoryOutsideIsRefused() async throws {
        let f = try Fixture()
        #expect(symlink("../outside", f.root + "/out") == 0)
        let e = await f.failure("write", ["path": "out/new.txt", "content": "x"])
        #expect(e?.code == .invalidInput)
        #expect(!f.exists(f.outside + "/new.txt"))
    }

    @Test func deletingASymlinkRemovesOnlyTheLink() async throws {
        let f = try Fixture()
        #expect(symlink(f.outside + "/secret.txt", f.root + "/leak.txt") == 0)
        _ = try await f.call("delete", ["path": "leak.txt"])
        #expect(!f.exists(f.root + "/leak.txt"))
        #expect(f.exists(f.outside + "/secret.txt"))
    }

    @Test func theRootItselfCannotBeDeleted() async throws {
        let f = try Fixture()
        for path: JSONValue in [".", "./", "a/..", "/"] {
            let e = await f.failure("delete", ["path": path, "recursive": true])
            #expect(e?.code == .invalidInput, "path \(path)")
        }
        #expect(f.exists(f.root))
    }

    @Test func malformedPathsAreRefused() async throws {
        let f = try Fixture()
        let long = String(repeating: "a/", count: 2049)
        for path: JSONValue in ["", "a\u{0}b", .string(long), 42] {
            let e = await f.failure("read", ["path": path])
            #expect(e?.code == .invalidInput, "path \(path)")
        }
    }
}
