import JALMClient
import ArgumentParser
import Glibc
import JALMWire

/// `jalm run FILE`: submit a capsule, optionally wait for its end.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit a capsule (JSON or YAML) for execution.",
        discussion: """
            The file is sent as is; jalmd validates it and answers with the new execution's id. \
            A .json file is sent as application/json, .yml/.yaml as application/yaml; any other name \
            is sniffed (JSON if it starts with '{'). FILE '-' reads standard input.

            With --wait, jalm blocks until the execution ends, prints it like `jalm status`, and exits \
            0 if it completed, 1 if it failed or was cancelled (or is still running at --timeout).

            Examples:
              jalm run capsule.yml
              jalm run capsule.json --wait --timeout 120
              cat capsule.yml | jalm run - --wait --json
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The capsule file, or '-' for standard input.", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Block until the execution ends and print its result.")
    var wait = false

    @Option(name: .long, help: ArgumentHelp(
        "With --wait, give up waiting after this many seconds (implies --wait).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 86400) {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
    }

    func run() throws {
        let body = try readCapsule(file)
        let contentType = Self.contentType(path: file, body: body)
        guard wait || timeout != nil else {
            let answer = try global.api().post("/exec", body: body, contentType: contentType)
            if global.json { return global.printJSON(answer) }
            let id = answer["execution_id"]?.stringValue ?? answer["id"]?.stringValue ?? "?"
            print("\(id)  \(answer["state"]?.stringValue ?? "submitted")")
            printError("follow it with: jalm status \(id)")
            return
        }
        let view = try Waiter(global: global, timeout: timeout).submit(body: body, contentType: contentType)
        if global.json { global.printJSON(view.json) } else { print(view.render()) }
        guard view.isFinished else {
            throw CLIFailure.problem(code: "timeout", detail: "execution \(view.id) is still \(view.state) after "
                + Format.seconds(timeout ?? 0) + " (see `jalm status \(view.id)`)", pointer: nil)
        }
        if view.state != "completed" { throw CLIFailure.silent(1) }
    }

    /// `application/json` for .json, `application/yaml` for .yml/.yaml, else by the first non-blank byte.
    static func contentType(path: String, body: [UInt8]) -> String {
        let lower = path.lowercased()
        if lower.hasSuffix(".json") { return "application/json" }
        if lower.hasSuffix(".yml") || lower.hasSuffix(".yaml") { return "application/yaml" }
        let first = body.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        return first == UInt8(ascii: "{") ? "application/json" : "application/yaml"
    }

    private func readCapsule(_ path: String) throws(CLIFailure) -> [UInt8] {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .usage("cannot read \(path): \(errnoText())") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw .usage("cannot read \(path): \(errnoText())")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard !bytes.isEmpty else { throw .usage("\(path) is empty") }
        return bytes
    }
}
