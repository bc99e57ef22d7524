import Foundation
import JALMCore
import JALMDocument
import JALMWire
import Testing
@testable import JALMCapsule

/// `include:` expanded against real temporary capsules folders (`CapsuleFolder`), then parsed.
@Suite struct IncludeResolverTests {
    /// A fresh capsules folder holding `files` (path → text).
    final class Folder {
        let root: String

        init(_ files: [String: String] = [:]) throws {
            root = NSTemporaryDirectory() + "jalm-include-" + UUID().uuidString
            for (path, text) in files { try write(path, text) }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ path: String, _ text: String) throws {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }

        var source: CapsuleFolder { CapsuleFolder(root: root) }

        func expand(_ yaml: String, limits: IncludeLimits = IncludeLimits()) throws -> IncludeExpansion {
            try IncludeExpansion.expand(body: Array(yaml.utf8), contentType: "application/yaml", from: source, limits: limits)
        }

        /// The expanded capsule, parsed as jalmd parses it (faults told in the submitted document's terms).
        func capsule(_ yaml: String, limits: IncludeLimits = IncludeLimits()) throws -> Capsule {
            let expanded = try expand(yaml, limits: limits)
            do {
                return try CapsuleParser.parse(Document.parse(expanded.body, contentType: expanded.contentType))
            } catch {
                throw expanded.explain(error)
            }
        }
    }

    static let echo = "{layer: io-file, op: sys.echo}"

    /// A fragment file whose steps have these ids.
    static func fragment(_ ids: String...) -> String {
        "steps:\n" + ids.map { "  - {id: \($0), layer: io-file, op: sys.echo}\n" }.joined()
    }

    static func ids(_ steps: [Step]) -> [String] { steps.map(\.id) }

    // MARK: what costs nothing

    @Test func aCapsuleThatIncludesNothingIsItsOwnExpansionByteForByteWithoutAFileRead() throws {
        // NoFragments refuses every read: a read would fail the expansion.
        for text in ["steps: [{id: a, layer: io-file, op: sys.echo}]",
                     "vars: {note: we include nothing}\nsteps: [{id: a, layer: io-file, op: sys.echo}]",
                     "include: {auth: fragments/auth.yml}\nsteps: [{id: a, layer: io-file, op: sys.echo}]"] {
            let body = Array(text.utf8)
            let expanded = try IncludeExpansion.expand(body: body, contentType: "application/yaml", from: NoFragments())
            #expect(expanded.body == body && expanded.contentType == "application/yaml" && !expanded.isExpanded)
        }
    }

    // MARK: splicing

    @Test func anIncludeStepIsReplacedInPlaceByTheFragmentsSteps() throws {
        let folder = try Folder(["fragments/auth.yml": Self.fragment("login", "token")])
        let capsule = try folder.capsule("""
            include: {auth: fragments/auth.yml#steps}
            steps:
              - {id: first, layer: io-file, op: sys.echo}
              - include: auth
              - {id: last, layer: io-file, op: sys.echo}
            """)
        #expect(Self.ids(capsule.steps) == ["first", "login", "token", "last"])
        #expect(capsule.steps.map(\.pointer.description) == ["/steps/0", "/steps/1", "/steps/2", "/steps/3"])
    }

    @Test func anIncludeIsSplicedInsideEveryKindOfBlock() throws {
        let folder = try Folder(["f.yml": """
            a: [{id: a1, layer: io-file, op: sys.echo}]
            b: [{id: b1, layer: io-file, op: sys.echo}, {id: b2, layer: io-file, op: sys.echo}]
            c: [{id: c1, layer: io-file, op: sys.echo}]
            d: [{id: d1, layer: io-file, op: sys.echo}]
            e: [{id: e1, layer: io-file, op: sys.echo}]
            """])
        let capsule = try folder.capsule("""
            include: {a: "f.yml#/a", b: "f.yml#b", c: "f.yml#c", d: "f.yml#d", e: "f.yml#e"}
            steps:
              - id: route
                switch:
                  - {when: "1 == 1", steps: [{include: a}]}
                  - default: [{include: b}]
              - id: each
                foreach: [1, 2]
                steps: [{include: c}, {id: tail, layer: io-file, op: sys.echo}]
              - id: both
                parallel: {x: [{include: d}], y: [{include: e}]}
            """)
        guard case .switch(let cases)? = capsule.steps[0].block, case .foreach(let loop)? = capsule.steps[1].block,
              case .parallel(let branches, _)? = capsule.steps[2].block else {
            Issue.record("the blocks were not kept: \(capsule.steps)")
            return
        }
        #expect(Self.ids(cases[0].steps) == ["a1"] && Self.ids(cases[1].steps) == ["b1", "b2"])
        #expect(Self.ids(loop.steps) == ["c1", "tail"])
        #expect(branches.map { Self.ids($0.steps) } == [["d1"], ["e1"]])
    }

    @Test func aTargetNamesItsListLongShortOrByDefault() throws {
        let folder = try Folder(["lib.yml": "steps: [{id: s, layer: io-file, op: sys.echo}]\nlib:\n  auth: [{id: deep, layer: io-file, op: sys.echo}]\n",
                                 "list.json": #"[{"id": "j", "layer": "io-file", "op": "sys.echo"}]"#])
        let capsule = try folder.capsule("""
            include: {plain: lib.yml, deep: "lib.yml#/lib/auth", whole: "list.json#"}
            steps: [{include: plain}, {include: deep}, {include: whole}]
            """)
        #expect(Self.ids(capsule.steps) == ["s", "deep", "j"])
    }

    @Test func aFragmentIncludesOthersWithItsOwnMapRelativeToTheCapsulesFolder() throws {
        let folder = try Folder([
            "fragments/auth.yml": "include: {token: fragments/inner/token.yml}\nsteps:\n  - {id: login, layer: io-file, op: sys.echo}\n  - include: token\n",
            "fragments/inner/token.yml": Self.fragment("token"),
        ])
        let capsule = try folder.capsule("include: {auth: fragments/auth.yml}\nsteps: [{include: auth}]")
        #expect(Self.ids(capsule.steps) == ["login", "token"])
    }

    @Test func theExpansionIsJSONWithTheMapKeptAndNoIncludeStepLeft() throws {
        let folder = try Folder(["f.yml": Self.fragment("a")])
        let expanded = try folder.expand("include: {f: f.yml}\nintent: x\nsteps: [{include: f}]")
        #expect(expanded.isExpanded && expanded.contentType == "application/json")
        #expect(try JSONParser.parse(expanded.body) == ["include": ["f": "f.yml"], "intent": "x",
                                                        "steps": [["id": "a", "layer": "io-file", "op": "sys.echo"]]])
    }

    @Test func aWrappedCapsuleIsExpandedInsideItsWrapper() throws {
        let folder = try Folder(["f.yml": Self.fragment("a")])
        let capsule = try folder.capsule("jalm_config:\n  include: {f: f.yml}\n  steps: [{include: f}]")
        #expect(Self.ids(capsule.steps) == ["a"] && capsule.basePointer.description == "/jalm_config")
    }

    // MARK: refusals

    @Test func anUnknownNameIsRefusedAtTheIncludeStep() throws {
        let folder = try Folder(["f.yml": Self.fragment("a")])
        expectInvalid(at: "/steps/1/include", #"unknown include "g"; the include map has f"#) {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{include: f}, {include: g}]")
        }
        expectInvalid(at: "/steps/0/include", "there is no include map") {
            _ = try folder.expand("steps: [{include: f}]")
        }
        expectInvalid(at: "/steps/0/when", "an include step has only include") {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{include: f, when: 'true'}]")
        }
    }

    @Test func aMissingFileIsRefusedAtItsEntry() throws {
        let folder = try Folder()
        expectInvalid(at: "/include/auth", "no file fragments/auth.yml in the capsules folder") {
            _ = try folder.expand("include: {auth: fragments/auth.yml}\nsteps: [{include: auth}]")
        }
    }

    @Test func aPathOutOfTheFolderIsRefusedByDotDotAbsoluteOrSymlink() throws {
        let outside = try Folder(["secret.yml": Self.fragment("leak")])
        let folder = try Folder()
        try FileManager.default.createSymbolicLink(atPath: folder.root + "/link.yml", withDestinationPath: outside.root + "/secret.yml")
        try FileManager.default.createSymbolicLink(atPath: folder.root + "/dir", withDestinationPath: outside.root)
        expectInvalid(at: "/include/f", "goes up with ..") {
            _ = try folder.expand("include: {f: ../\((outside.root as NSString).lastPathComponent)/secret.yml}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "is absolute") {
            _ = try folder.expand("include: {f: \(outside.root)/secret.yml}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "leads outside the capsules folder") {
            _ = try folder.expand("include: {f: link.yml}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "leads outside the capsules folder") {
            _ = try folder.expand("include: {f: dir/secret.yml}\nsteps: [{include: f}]")
        }
    }

    /// A FIFO would block the submission on open and a folder has no steps: only regular files are read.
    @Test func aFolderOrAFIFOIsNotAFragment() throws {
        let folder = try Folder(["dir/f.yml": Self.fragment("a")])
        #expect(mkfifo(folder.root + "/pipe.yml", 0o600) == 0)
        expectInvalid(at: "/include/f", "pipe.yml is not a regular file") {
            _ = try folder.expand("include: {f: pipe.yml}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "dir is not a regular file") {
            _ = try folder.expand("include: {f: dir}\nsteps: [{include: f}]")
        }
    }

    @Test func aSymlinkThatStaysInsideIsFollowed() throws {
        let folder = try Folder(["real/f.yml": Self.fragment("a")])
        try FileManager.default.createSymbolicLink(atPath: folder.root + "/alias.yml", withDestinationPath: folder.root + "/real/f.yml")
        #expect(Self.ids(try folder.capsule("include: {f: alias.yml}\nsteps: [{include: f}]").steps) == ["a"])
    }

    @Test func aPointerThatNamesNoListOfStepsIsRefusedAtItsEntry() throws {
        let folder = try Folder(["f.yml": "steps: []\nvars: {a: 1}\n"])
        expectInvalid(at: "/include/f", "f.yml has nothing at /stepz") {
            _ = try folder.expand("include: {f: 'f.yml#stepz'}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "f.yml#/vars is an object, not a list of steps") {
            _ = try folder.expand("include: {f: 'f.yml#/vars'}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "f.yml#/steps is an empty list") {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{include: f}]")
        }
        expectInvalid(at: "/include/f", "must be a text PATH#POINTER") {
            _ = try folder.expand("include: {f: 3}\nsteps: [{include: f}]")
        }
    }

    @Test func aFileOverTheSizeLimitIsRefused() throws {
        let folder = try Folder(["big.yml": Self.fragment("a", "b", "c")])
        let limits = IncludeLimits(maxFragmentBytes: 64)
        expectInvalid(at: "/include/big", "a fragment file may have at most 64") {
            _ = try folder.expand("include: {big: big.yml}\nsteps: [{include: big}]", limits: limits)
        }
    }

    @Test func aCycleIsRefusedAndNamed() throws {
        let folder = try Folder([
            "a.yml": "include: {b: b.yml}\nsteps: [{include: b}]\n",
            "b.yml": "include: {a: a.yml}\nsteps: [{id: x, layer: io-file, op: sys.echo}, {include: a}]\n",
        ])
        expectInvalid(at: "/steps/0", "include cycle: a.yml#/steps → b.yml#/steps → a.yml#/steps") {
            _ = try folder.expand("include: {a: a.yml}\nsteps: [{include: a}]")
        }
    }

    /// `chain/N.yml` includes `chain/N+1.yml`, the last one a step.
    static func chain(_ n: Int) throws -> Folder {
        var files: [String: String] = [:]
        for i in 1..<n { files["chain/\(i).yml"] = "include: {next: chain/\(i + 1).yml}\nsteps: [{include: next}]\n" }
        files["chain/\(n).yml"] = fragment("bottom")
        return try Folder(files)
    }

    @Test func includesNestEightDeepAndNotNine() throws {
        let capsule = "include: {next: chain/1.yml}\nsteps: [{include: next}]"
        #expect(Self.ids(try Self.chain(8).capsule(capsule).steps) == ["bottom"])
        expectInvalid(at: "/steps/0", "includes nest at most 8 deep") { _ = try Self.chain(9).expand(capsule) }
        expectInvalid(at: "/steps/0", "at most 2 deep") { _ = try Self.chain(3).expand(capsule, limits: IncludeLimits(maxDepth: 2)) }
    }

    @Test func aFragmentIncludedTwiceIsRefusedForItsIdsNamingBothPlaces() throws {
        let folder = try Folder(["f.yml": Self.fragment("a")])
        expectInvalid(at: "/steps/1", #"f.yml#/steps/0/id: duplicate step id "a", already brought in by /steps/0 (f: f.yml#/steps) at f.yml#/steps/0"#) {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{include: f}, {include: f}]")
        }
        expectInvalid(at: "/steps/1/id", #"duplicate step id "a", already brought in by /steps/0 (f: f.yml#/steps)"#) {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{include: f}, {id: a, layer: io-file, op: sys.echo}]")
        }
        expectInvalid(at: "/steps/1", #"f.yml#/steps/0/id: duplicate step id "a", also at /steps/0;"#) {
            _ = try folder.expand("include: {f: f.yml}\nsteps: [{id: a, layer: io-file, op: sys.echo}, {include: f}]")
        }
    }

    @Test func aFaultInsideAFragmentPointsAtTheIncludeStepAndNamesTheFragment() throws {
        let folder = try Folder(["f.yml": "steps:\n  - {id: ok, layer: io-file, op: sys.echo}\n  - {id: bad, layer: io-file, op: sys.echo, timeout: -1}\n"])
        expectInvalid(at: "/steps/1", "f.yml#/steps/1/timeout: timeout must be more than 0") {
            _ = try folder.capsule("include: {f: f.yml}\nsteps: [{id: first, layer: io-file, op: sys.echo}, {include: f}]")
        }
    }

    @Test func aStepAfterASpliceIsToldAtItsSubmittedPlace() throws {
        let folder = try Folder(["f.yml": Self.fragment("a", "b", "c")])
        expectInvalid(at: "/steps/1/timeout", "timeout must be more than 0") {
            _ = try folder.capsule("include: {f: f.yml}\nsteps: [{include: f}, {id: z, layer: io-file, op: sys.echo, timeout: -1}]")
        }
    }

    @Test func anExpansionOverTheStepOrByteLimitIsRefused() throws {
        let steps = (0..<600).map { "  - {id: s\($0), layer: io-file, op: sys.echo}\n" }.joined()
        let folder = try Folder(["many.yml": "steps:\n" + steps, "other.yml": "steps:\n" + steps.replacingOccurrences(of: "id: s", with: "id: t")])
        expectInvalid(at: "/steps/1", "more than 1000 steps") {
            _ = try folder.expand("include: {m: many.yml, o: other.yml}\nsteps: [{include: m}, {include: o}]")
        }
        expectInvalid(at: "/include", "more than 4096 bytes") {
            _ = try folder.expand("include: {m: many.yml}\nsteps: [{include: m}]", limits: IncludeLimits(maxExpandedBytes: 4096))
        }
    }
}
