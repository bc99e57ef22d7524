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

            Every submission carries an idempotency key (a fresh random one unless --key gives it). If the \
            connection breaks before the answer, or jalmd is restarting, jalm sends the capsule again with \
            the same key for up to --retry-for seconds; jalmd answers a key it has seen (within its \
            idempotency_retention, 24h by default) with the execution it already made, so the capsule runs \
            once. Reusing a key for a different capsule is refused (409).

            Examples:
              jalm run capsule.yml
              jalm run capsule.json --wait --timeout 120
              cat capsule.yml | jalm run - --wait --json
              jalm run invoice.yml --key invoice-2026-12-05   # run it once, however often this line runs
              jalm run invoice.yml --dry-run --wait           # preview every write; nothing is changed or sent

            With --dry-run, every step whose op writes or leaves the machine (side effect write or external) \
            is previewed by its layer instead of performed (the SQL, the HTTP request, the file and its size, \
            the message); steps that only read or compute run for real. A dry run carries no idempotency key.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The capsule file, or '-' for standard input.", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Block until the execution ends and print its result.")
    var wait = false

    @Option(name: .long, help: ArgumentHelp(
        "With --wait, give up waiting after this many seconds (implies --wait).", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp(
        "The idempotency key (1 to 255 visible ASCII characters); default: a fresh random one.", valueName: "key"))
    var key: String?

    @Flag(name: .long, help: "Preview the steps that write or send instead of performing them.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp(
        "How long to keep re-sending after a broken connection or a restarting jalmd (default 60).",
        valueName: "seconds"))
    var retryFor: Double = 60

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 86400) {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
        if let key, key.isEmpty || key.utf8.count > 255 || !key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw ValidationError("--key must be 1 to 255 visible ASCII characters")
        }
        if !(retryFor >= 0 && retryFor <= 3600) { throw ValidationError("--retry-for must be from 0 to 3600 seconds") }
        if dryRun, key != nil { throw ValidationError("--dry-run takes no --key: a dry run is never the execution a key stands for") }
    }

    /// A fresh key: 128 random bits, so that two runs never share one.
    static func freshKey() -> String {
        var g = SystemRandomNumberGenerator()
        return "jalm-" + String(g.next(), radix: 16) + String(g.next(), radix: 16)
    }

    func run() throws {
        let body = try Self.readCapsule(file)
        let contentType = Self.contentType(path: file, body: body)
        let key = dryRun ? nil : self.key ?? Self.freshKey()
        guard wait || timeout != nil else {
            let sent = try global.api().submit(dryRun ? "/exec?dry_run=1" : "/exec", body: body, contentType: contentType,
                                               key: key, retryFor: retryFor)
            let answer = sent.json
            if global.json { return global.printJSON(answer) }
            let id = answer["execution_id"]?.stringValue ?? answer["id"]?.stringValue ?? "?"
            print("\(id)  \(answer["state"]?.stringValue ?? "submitted")")
            if sent.replayed, let key { printError("key \(key) was used before for this capsule: this is that execution") }
            printError("follow it with: jalm status \(id)")
            return
        }
        let view = try Waiter(global: global, timeout: timeout, retryFor: retryFor)
            .submit(body: body, contentType: contentType, key: key, dryRun: dryRun)
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

    static func readCapsule(_ path: String) throws(CLIFailure) -> [UInt8] {
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
