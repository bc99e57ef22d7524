import ArgumentParser
import Foundation
import JALMCapsule
import JALMClient
import JALMCore
import JALMDocument
import JALMWire

/// `jalm lint FILE...`: the checks of `POST /exec` without running anything. Offline by default, against
/// the op catalog of a share folder; with --daemon, through jalmd's `POST /lint` (which also knows the
/// secrets set on it and the ops of swapped-in plugins).
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check capsule files without running them.",
        discussion: """
            Each fault is printed as FILE:LINE:COLUMN: POINTER: MESSAGE (the place of the value the JSON \
            Pointer names), each good file as FILE: ok (N steps). The checks are those of POST /exec: the \
            document, every key, the ops and their input schemas, templates, conditions, expected_outputs \
            and meta limits. Offline, the secrets a capsule names are not checked (they live on the daemon).

            The catalog comes from --share DIR (the folder holding kernel/), else $JALM_SHARE, else the \
            folder jalm was installed from, else /usr/share/jalm.

            Includes (include: {NAME: PATH#POINTER}) are read from --capsules-dir DIR, else \
            $JALM_DATA/capsules, else .jalm/capsules: the folder jalmd reads them from (<data>/capsules). A \
            fault inside a fragment is printed at the include step that brought it, the fragment's file and \
            pointer in the message. With --daemon, jalmd reads its own capsules folder.

            Exit codes: 0 every file is good, 1 a file has a fault, 2 usage error (a file cannot be read), \
            3 jalmd unreachable (--daemon).

            Examples:
              jalm lint examples/*.yml
              jalm lint --daemon capsule.yml
              jalm lint --capsules-dir examples examples/include.yml
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The share folder whose kernel/ holds the op catalog.", valueName: "dir"))
    var share: String?

    @Flag(name: .long, help: "Ask the running jalmd (POST /lint) instead of checking offline.")
    var daemon = false

    @Option(name: .customLong("capsules-dir"),
            help: ArgumentHelp("The folder include paths are relative to (default $JALM_DATA/capsules, else .jalm/capsules).",
                               valueName: "dir"))
    var capsulesDir: String?

    @Argument(help: ArgumentHelp("Capsule files (YAML or JSON); - reads standard input.", valueName: "file"))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one capsule file") }
        if daemon, share != nil { throw ValidationError("pass either --daemon or --share, not both") }
        if daemon, capsulesDir != nil {
            throw ValidationError("--capsules-dir is for offline checks; with --daemon, jalmd reads its own <data>/capsules")
        }
    }

    func run() throws {
        let checker = try daemon ? Checker.daemon(global.api()) : Checker.offline(try loadCatalog(), fragments)
        var faults = 0
        for file in files {
            let body = try RunCommand.readCapsule(file)
            let type = RunCommand.contentType(path: file, body: body)
            switch try checker.check(body, contentType: type) {
            case .good(let steps):
                print("\(file): ok (\(steps) steps)")
            case .fault(let pointer, let message):
                faults += 1
                print(Self.line(file: file, body: body, (pointer, message)))
            }
        }
        if faults > 0 { throw CLIFailure.silent(1) }
    }

    /// `file:line:column: pointer: message`, the position being the value the pointer names.
    static func line(file: String, body: [UInt8], _ fault: (pointer: String, message: String)) -> String {
        let place = JSONPointer(parsing: fault.pointer).flatMap { DocumentPosition.locate($0, in: body) }
        let position = place.map { ":\($0.line):\($0.column)" } ?? ""
        return "\(file)\(position): \(fault.pointer.isEmpty ? "/" : fault.pointer): \(fault.message)"
    }

    /// Where includes are read offline: the data folder's capsules/, as jalmd reads them.
    var fragments: CapsuleFolder {
        CapsuleFolder(root: capsulesDir ?? (environment("JALM_DATA") ?? ".jalm") + "/capsules")
    }

    func loadCatalog() throws(CLIFailure) -> Catalog {
        let dir = share ?? environment("JALM_SHARE") ?? Self.installedShare() ?? "/usr/share/jalm"
        do {
            return try Catalog.load(directory: dir + "/kernel")
        } catch {
            throw .usage("cannot load the op catalog from \(dir)/kernel: \(error) (pass --share DIR)")
        }
    }

    /// The folder above jalm's binary that holds kernel/atoms.csv (a build tree or an install prefix).
    static func installedShare() -> String? {
        var dir = (CommandLine.arguments[0] as NSString).resolvingSymlinksInPath
        for _ in 0..<6 {
            dir = (dir as NSString).deletingLastPathComponent
            if FileManager.default.fileExists(atPath: dir + "/kernel/atoms.csv") { return dir }
            if FileManager.default.fileExists(atPath: dir + "/share/jalm/kernel/atoms.csv") { return dir + "/share/jalm" }
        }
        return nil
    }

    /// Where the checks run.
    enum Checker {
        case offline(Catalog, CapsuleFolder)
        case daemon(JalmAPI)

        enum Verdict {
            case good(steps: Int)
            /// The first fault, as the 422 of POST /exec would give it.
            case fault(pointer: String, message: String)
        }

        func check(_ body: [UInt8], contentType: String) throws(CLIFailure) -> Verdict {
            switch self {
            case .offline(let catalog, let fragments):
                let expanded: IncludeExpansion
                do {
                    expanded = try IncludeExpansion.expand(body: body, contentType: contentType, from: fragments)
                } catch {
                    return .fault(pointer: error.pointer ?? "", message: error.message)
                }
                do {
                    let capsule = try CapsuleParser.parse(Document.parse(expanded.body, contentType: expanded.contentType),
                                                          defaultOps: catalog.defaultOps)
                    let every = Set(catalog.cards.map(\.qualifiedName))
                    try CapsuleValidator(catalog: catalog, announcedOps: every).validate(capsule)
                    return .good(steps: capsule.allSteps.count)
                } catch {
                    let told = expanded.explain(error)
                    return .fault(pointer: told.pointer ?? "", message: told.message)
                }
            case .daemon(let api):
                let answer = try api.raw("POST", "/lint", body: body, contentType: contentType)
                if (200..<300).contains(answer.status) { return .good(steps: answer.json["steps"]?.arrayValue?.count ?? 0) }
                guard answer.status == 422 else {
                    throw CLIFailure(status: answer.status, body: JSONWriter.bytes(answer.json))
                }
                return .fault(pointer: answer.json["pointer"]?.stringValue ?? "",
                              message: answer.json["detail"]?.stringValue ?? "invalid")
            }
        }
    }
}
