#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import JALMCore
import JALMKernel

/// The listeners: the control socket (mode 0660, no token: its file mode is the guard) and, when
/// configured, TCP (a bearer token, mandatory beyond loopback).
public enum APIServers {
    /// - Parameter activatedSocket: the control socket systemd passed (`jalmd.socket`); nil: bind the path.
    public static func make(commands: KernelCommands, logger: Logger, activatedSocket: Int32? = nil) throws(RunnerError)
        -> [any Service]
    {
        let config = commands.settings
        let socketPath = config.socketPath
        let idle = config.httpIdleTimeout.components
        let idleNanoseconds = idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000
        // A client that connects and sends nothing (or half a request) must not hold a connection forever;
        // Hummingbird does not close a connection while its response is still being produced (?wait=).
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .nanoseconds(idleNanoseconds)))
        var services: [any Service] = []
        if let fd = activatedSocket {
            // systemd owns the path, its mode and group (jalmd.socket): neither removed nor changed here.
            services.append(ActivatedSocketServer(
                fd: fd, responder: Routes.router(commands: commands, token: nil).buildResponder(), idleTimeout: .nanoseconds(idleNanoseconds),
                logger: logger, onRunning: {
                    logger.notice("control socket listening (from systemd)", metadata: ["api.socket": "fd \(fd)"])
                    commands.listenerUp()
                }))
        } else {
            unlink(socketPath)  // a stale socket from a previous run would make bind fail
            services.append(Application(
                router: Routes.router(commands: commands, token: nil), server: http1,
                configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "jalmd"),
                onServerRunning: { _ in
                    chmod(socketPath, 0o660)
                    logger.notice("control socket listening", metadata: ["api.socket": "\(socketPath)"])
                    commands.listenerUp()
                },
                logger: logger))
        }
        if let listen = config.listen {
            guard let port = config.listenPort, let host = config.listenHost else {
                throw RunnerError(.invalidInput, "listen must be HOST:PORT, got \"\(listen)\"", pointer: "/listen")
            }
            let token = config.token
            if !config.listensOnLoopbackOnly && (token ?? "").isEmpty {
                throw RunnerError(.invalidInput, "listening on \(listen), beyond loopback, requires a bearer token: "
                    + "set token in jalmd.yml or JALM_TOKEN", pointer: "/token")
            }
            services.append(Application(
                router: Routes.router(commands: commands, token: token), server: http1,
                configuration: .init(address: .hostname(host, port: port), serverName: "jalmd"),
                onServerRunning: { _ in
                    logger.notice("HTTP listening", metadata: ["api.listen": "\(listen)"])
                    commands.listenerUp()
                },
                logger: logger))
        }
        commands.expectListeners(services.count)
        return services
    }
}
