import ArgumentParser
import JALMWire
import Glibc

/// `jalm`: the command-line client of jalmd. Parsing and exit codes live here; each command has its file.
@main
struct JalmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jalm",
        abstract: "Run capsules on jalmd and see what they did.",
        discussion: """
            jalm talks to the JALM daemon over its Unix socket (or over HTTP with --url). \
            Global options may stand before or after the command.

            Examples:
              jalm run report.yml --wait
              jalm status ex_019ab3c1f2a04f7e2b9c1d
              jalm ls --state failed --limit 5
              jalm layers
              jalm lint examples/*.yml
              jalm --url http://127.0.0.1:8888 health

            Exit codes: 0 success, 1 request refused or execution failed, 2 usage error, \
            3 jalmd unreachable. Set JALM_TOKEN to send it as a bearer token.
            """,
        version: jalmVersion,
        subcommands: [
            RunCommand.self, StatusCommand.self, ListCommand.self, CancelCommand.self,
            LayersCommand.self, OpsCommand.self, HealthCommand.self, SandboxCommand.self, LintCommand.self, SchemaCommand.self,
        ])

    @OptionGroup var global: GlobalOptions

    /// Like ArgumentParser's own `main`, but with our exit codes: a `CLIFailure` prints its message and
    /// exits with its code; usage errors exit 2 rather than 64 (EX_USAGE).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            if let message = failure.message { printError(message) }
            Glibc.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Glibc.exit(0)
            }
            if !message.isEmpty { printError(message) }
            Glibc.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
