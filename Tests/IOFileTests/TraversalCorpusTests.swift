#if canImport(Glibc)
import Glibc
#endif
import JALMPlatform
import JALMWire
import Synchronization
import Testing
@testable import jalm_layer_io_file

/// Every way out of the root we know, tried through every op. The property that must hold for all of
/// them: the sentinel file outside the root keeps its content and mtime, nothing appears beside it, and
/// no op returns its bytes. Ops that read through a path must refuse an escaping one with invalid_input.
@Suite struct TraversalCorpusTests {
    static let sentinel = "SENTINEL-7f3a-outside"

    /// A path that tries to reach `outside/secret.txt`, and the layout it needs in the root.
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var path: @Sendable (Fixture) -> String
        var setup: @Sendable (Fixture) -> Void = { _ in }
        /// True when the path leaves the root (read-through ops must refuse it); false for a look-alike
        /// that is only a strange name inside the root.
        var escapes = true
    }

    static let corpus: [Case] = [
        Case(description: "../", path: { _ in "../outside/secret.txt" }),
        Case(description: "deep ../", path: { _ in "sub/../../outside/secret.txt" }),
        Case(description: "../ to the root's parent dir", path: { _ in ".." }),
        Case(description: "absolute", path: { $0.outside + "/secret.txt" }),
        Case(description: "/proc/self/root", path: { "/proc/self/root" + $0.outside + "/secret.txt" }),
        Case(description: "/proc/self/cwd", path: { _ in "/proc/self/cwd/secret.txt" }),
        Case(description: "symlink to /proc/self/root (magic link)", path: { "proc/" + $0.relativeOutside + "/secret.txt" },
             setup: { f in _ = symlink("/proc/self/root", f.root + "/proc") }),
        Case(description: "relative symlink into /proc/self/fd", path: { _ in "fd/3" },
             setup: { f in _ = symlink("../" + String(repeating: "../", count: 12) + "proc/self/fd", f.root + "/fd") }),
        Case(description: "NUL byte", path: { _ in "secret.txt\u{0}../../outside/secret.txt" }),
        Case(description: "name of NAME_MAX+1 bytes", path: { _ in String(repeating: "n", count: 256) }, escapes: false),
        Case(description: "path of PATH_MAX+1 bytes", path: { _ in String(repeating: "d/", count: 2048) + "x" }),
        Case(description: "U+2215 division slash", path: { _ in "..\u{2215}outside\u{2215}secret.txt" }, escapes: false),
        Case(description: "fullwidth dots", path: { _ in "\u{FF0E}\u{FF0E}/outside/secret.txt" }, escapes: false),
        Case(description: "fullwidth solidus", path: { _ in "..\u{FF0F}outside\u{FF0F}secret.txt" }, escapes: false),
        Case(description: "one dot leader pair", path: { _ in "\u{2024}\u{2024}/outside/secret.txt" }, escapes: false),
        Case(description: "absolute symlink out", path: { _ in "leak" },
             setup: { f in _ = symlink(f.outside + "/secret.txt", f.root + "/leak") }),
        Case(description: "relative symlink out", path: { _ in "leak" },
             setup: { f in _ = symlink("../outside/secret.txt", f.root + "/leak") }),
        Case(description: "symlinked directory out", path: { _ in "dirout/secret.txt" },
             setup: { f in _ = symlink("../outside", f.root + "/dirout") }),
        Case(description: ".. inside a symlink target", path: { _ in "sub/up/secret.txt" },
             setup: { f in _ = symlink("../../outside", f.root + "/sub/up") }),
        Case(description: "chain of symlinks out", path: { _ in "hop1" },
             setup: { f in _ = symlink("hop2", f.root + "/hop1"); _ = symlink("sub/../../outside/secret.txt", f.root + "/hop2") }),
    ]

    /// Each op with the corpus path in one of its path fields; `readsThrough` ops must refuse an escape.
    struct OpCase: Sendable {
        let op: String
        let readsThrough: Bool
        let input: @Sendable (String) -> JSONValue
        init(_ op: String, _ readsThrough: Bool, _ input: @escaping @Sendable (String) -> JSONValue) {
            self.op = op
            self.readsThrough = readsThrough
            self.input = input
        }
    }

    static let ops: [OpCase] = [
        OpCase("read", true, { ["path": .string($0)] }),
        OpCase("checksum", true, { ["path": .string($0)] }),
        OpCase("csv.read", true, { ["path": .string($0)] }),
        OpCase("json.read", true, { ["path": .string($0)] }),
        OpCase("append", true, { ["path": .string($0), "content": "X"] }),
        OpCase("copy", true, { ["from": .string($0), "to": "stolen"] }),
        OpCase("list", true, { ["path": .string($0 + "/..")] }),
        OpCase("write", false, { ["path": .string($0), "content": "X"] }),
        OpCase("write", false, { ["path": .string($0 + "/new.txt"), "content": "X", "create_dirs": true] }),
        OpCase("csv.write", false, { ["path": .string($0), "rows": [["X"]]] }),
        OpCase("copy", false, { ["from": "inside.txt", "to": .string($0), "overwrite": true] }),
        OpCase("stat", false, { ["path": .string($0)] }),
        OpCase("delete", false, { ["path": .string($0), "recursive": true] }),
        OpCase("mkdir", false, { ["path": .string($0 + "/made")] }),
        OpCase("move", false, { ["from": .string($0), "to": "moved"] }),
        OpCase("move", false, { ["from": "inside.txt", "to": .string($0), "overwrite": true] }),
    ]

    @Test(arguments: corpus.indices)
    func everyOpKeepsTheSentinelSafe(_ index: Int) async throws {
        let c = Self.corpus[index]
        for o in Self.ops {
            let (op, readsThrough, input) = (o.op, o.readsThrough, o.input)
            let f = try Fixture()
            try f.writeRaw(f.outside + "/secret.txt", Array(Self.sentinel.utf8))
            try f.writeRaw(f.outside + "/secret.csv", Array(Self.sentinel.utf8))
            _ = Glibc.mkdir(f.root + "/sub", 0o755)
            try f.writeRaw(f.root + "/inside.txt", Array("inside".utf8))
            c.setup(f)
            let before = f.fingerprint(f.outside + "/secret.txt")
            let label = "\(c) via \(op) \(input("P"))"
            var output: JSONValue? = nil
            var failure: CallFailure? = nil
            do { output = try await f.handler.handle(op: op, input: input(c.path(f)), context: Fixture.context) } catch { failure = error }
            if c.escapes && readsThrough {
                #expect(failure?.code == .invalidInput, "\(label): \(output.map { "\($0)" } ?? failure.map { "\($0.code)" } ?? "")")
            }
            #expect(!JSONWriter.string(output ?? .null).contains("SENTINEL"), "\(label) returned the sentinel")
            #expect(!(failure?.message.contains("SENTINEL") ?? false), "\(label)")
            let after = f.fingerprint(f.outside + "/secret.txt")
            #expect(after.0 == before.0 && after.1 == before.1, "\(label) touched the sentinel")
            #expect(f.namesOutside() == ["secret.csv", "secret.txt"], "\(label) created \(f.namesOutside())")
            if let stolen = f.readRaw(f.root + "/stolen") {
                #expect(stolen != Array(Self.sentinel.utf8), "\(label) copied the sentinel in")
            }
        }
    }

    @Test func hardlinkToAFileOutsideIsNeitherReadNorWrittenInPlace() async throws {
        let f = try Fixture()
        try f.writeRaw(f.outside + "/secret.txt", Array(Self.sentinel.utf8))
        guard link(f.outside + "/secret.txt", f.root + "/hard") == 0 else {
            print("SKIP: cannot hard-link across the temp folder: errno \(errno)")
            return
        }
        let before = f.fingerprint(f.outside + "/secret.txt")
        for (op, input): (String, JSONValue) in [("read", ["path": "hard"]), ("checksum", ["path": "hard"]),
                                                 ("csv.read", ["path": "hard"]), ("json.read", ["path": "hard"]),
                                                 ("append", ["path": "hard", "content": "X"]),
                                                 ("copy", ["from": "hard", "to": "c"])] {
            let e = await f.failure(op, input)
            #expect(e?.code == .invalidInput, "\(op)")
            #expect(e?.details?["reason"] == "hardlink", "\(op)")
        }
        // write replaces the directory entry (rename), so the other link keeps the old bytes.
        _ = try await f.call("write", ["path": "hard", "content": "replaced"])
        #expect(f.readRaw(f.root + "/hard") == Array("replaced".utf8))
        let after = f.fingerprint(f.outside + "/secret.txt")
        #expect(after.0 == before.0 && after.1 == before.1)
    }

    @Test func hardlinksCanBeAllowedBySetting() async throws {
        var settings = IOFileSettings()
        settings.allowHardlinks = true
        let f = try Fixture(settings: settings)
        try f.writeRaw(f.root + "/a", Array("shared".utf8))
        guard link(f.root + "/a", f.root + "/b") == 0 else { print("SKIP: link failed: errno \(errno)"); return }
        #expect(try await f.call("read", ["path": "b"])["content"] == "shared")
    }
}

/// A symlink flipped between a directory inside the root and one outside, as fast as a thread can, while
/// reads and writes go through it: openat2 decides at each step, so no byte outside is read or written.
@Suite struct SymlinkRaceTests {
    final class Flag: Sendable { let stop = Atomic<Bool>(false); let flips = Atomic<Int>(0) }

    @Test func swappedSymlinkNeverLeaksAByte() async throws {
        let f = try Fixture()
        let sentinel = Array(TraversalCorpusTests.sentinel.utf8)
        try f.writeRaw(f.outside + "/secret.txt", sentinel)
        _ = Glibc.mkdir(f.root + "/in", 0o755)
        try f.writeRaw(f.root + "/in/secret.txt", Array("inside".utf8))
        #expect(symlink("in", f.root + "/flip") == 0)
        let before = f.fingerprint(f.outside + "/secret.txt")
        let flag = Flag()
        let root = f.root
        // Swap atomically (rename over) between an inside and an outside target, on a plain OS thread so
        // that the flipper runs beside the async test whatever the cooperative pool does.
        let flipper = try OSThread.startJoinable {
            var n = 0
            while !flag.stop.load(ordering: .relaxed) {
                let tmp = root + "/flip.tmp"
                unlink(tmp)
                _ = symlink(n % 2 == 0 ? "../outside" : "in", tmp)
                _ = rename(tmp, root + "/flip")
                n += 1
                usleep(20)  // leave the readers windows with either target in place
            }
            flag.flips.store(n, ordering: .relaxed)
        }
        var reads = 0, refused = 0
        for i in 0..<3000 {
            do {
                let out = try await f.call("read", ["path": "flip/secret.txt"])
                #expect(out["content"] == "inside")
                reads += 1
            } catch {
                let code = (error as? CallFailure)?.code
                #expect(code == .invalidInput || code == .notFound, "\(error)")
                refused += 1
            }
            _ = try? await f.call("write", ["path": .string("flip/w\(i % 7).txt"), "content": "X"])
            _ = try? await f.call("append", ["path": "flip/secret.txt", "content": ""])
            _ = try? await f.call("copy", ["from": "flip/secret.txt", "to": "c.txt", "overwrite": true])
        }
        flag.stop.store(true, ordering: .relaxed)
        flipper.join()
        print("symlink race: \(flag.flips.load(ordering: .relaxed)) flips, \(reads) reads inside, \(refused) refused")
        #expect(flag.flips.load(ordering: .relaxed) > 100)
        #expect(reads > 0 && refused > 0, "the race must see both targets")
        let after = f.fingerprint(f.outside + "/secret.txt")
        #expect(after.0 == before.0 && after.1 == before.1)
        #expect(f.namesOutside() == ["secret.txt"])
        #expect(f.readRaw(f.root + "/c.txt").map { $0 == Array("inside".utf8) } ?? true)
    }
}

