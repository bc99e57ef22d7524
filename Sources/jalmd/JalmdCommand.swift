import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import JALMAPI
import JALMCore
import JALMKernel
import JALMWire

@main
struct JalmdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jalmd",
        abstract: "The JALM Core Runner daemon: runs capsules on six confined layer plugins.",
        discussion: """
            jalmd keeps its journal (SQLite), its control socket and the files of io-file in one data folder.
            It accepts capsules on the control socket (mode 0660) and, by default, on HTTP 127.0.0.1:8888.

            Defaults: the data folder is ./.jalm (or $STATE_DIRECTORY under systemd), the control socket
            <data>/jalmd.sock. Settings come from --config FILE (YAML, see kernel/jalmd.yml for every key),
            then the environment (JALM_DATA, JALM_SOCKET, JALM_LISTEN, JALM_TOKEN), then flags.

            Examples:
              jalmd                                  # ./.jalm, socket ./.jalm/jalmd.sock, HTTP 127.0.0.1:8888
              jalmd --data /srv/jalm --listen none   # control socket only
              JALM_TOKEN=s3cret jalmd --listen 0.0.0.0:8888
            SIGTERM or SIGINT drains: no new executions, running ones finish (bounded by drain_timeout).
            SIGHUP re-reads the config: changed layer settings, manifests and policies are swapped in live;
            other changed keys are logged as needing a restart. Under systemd (Type=notify) it reports
            readiness, status and watchdog pings, and takes the control socket from jalmd.socket.
            """,
        version: jalmVersion)

    @Option(name: .long, help: "A YAML config file (every key: kernel/jalmd.yml).")
    var config: String?

    @Option(name: .long, help: "The data folder (journal, socket, files). Env: JALM_DATA.")
    var data: String?

    @Option(name: .long, help: "The control socket path. Env: JALM_SOCKET. Default: <data>/jalmd.sock.")
    var socket: String?

    @Option(name: .long, help: "HTTP listener HOST:PORT, or \"none\". Env: JALM_LISTEN. Default: 127.0.0.1:8888.")
    var listen: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical. Env: JALM_LOG_LEVEL.")
    var logLevel: String?

    func validate() throws {
        if let l = logLevel, Logger.Level(rawValue: l) == nil {
            throw ValidationError("unknown log level \"\(l)\"")
        }
        if let l = listen, l != "none", KernelConfig.port(of: l) == nil {
            throw ValidationError("--listen must be HOST:PORT or none, got \"\(l)\"")
        }
    }

    func run() async throws {
        ReloadSignal.ignore()
        let env = ProcessInfo.processInfo.environment
        // Read once, then removed: no plugin or launcher may speak to systemd for jalmd (sd_notify(3)).
        let notifier = SystemdNotifier(environment: env)
        let activated = SocketActivation.controlSocket(environment: env)
        for key in SystemdNotifier.environmentKeys { unsetenv(key) }
        let level = (logLevel ?? env["JALM_LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        // Under systemd, stderr is the journal: send it structured fields instead of lines.
        if JournalLogHandler.stderrIsJournal(env), let journal = JournalLogHandler.openSocket() {
            LoggingSystem.bootstrap { label in JournalLogHandler(label: label, fd: journal, logLevel: level) }
        } else {
            LoggingSystem.bootstrap { label in
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
        }
        let logger = Logger(label: "jalmd")
        let kernelConfig: KernelConfig
        do {
            kernelConfig = try Setup.resolve(flags: self, env: env)
        } catch {
            FileHandle.standardError.write(Data("jalmd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        do {
            try Setup.lockDataDirectory(kernelConfig.dataDirectory)
            let systemd = notifier.map { SystemdLink(notifier: $0, logger: logger) }
            let kernel = try Kernel(config: kernelConfig, logger: logger, systemd: systemd)
            let servers = try APIServers.make(commands: KernelCommands(kernel), logger: logger, activatedSocket: activated)
            let flags = self
            let reloads = ReloadSignal.install(kernel: kernel, logger: logger) {
                try Setup.resolve(flags: flags, env: env)
            }
            defer { reloads.cancel() }
            let group = ServiceGroup(
                services: servers + [kernel], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
        } catch {
            FileHandle.standardError.write(Data("jalmd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
