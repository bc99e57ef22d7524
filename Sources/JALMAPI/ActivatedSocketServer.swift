import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The control socket's HTTP server on a listening socket that systemd made and passed (`jalmd.socket`):
/// connections made while jalmd restarts wait in its backlog instead of being refused. Hummingbird's
/// `Application` can only bind a path itself, so this serves the same router on NIO's already-bound
/// socket, with Hummingbird's HTTP/1 channel.
struct ActivatedSocketServer: Service {
    let fd: Int32
    let responder: RouterResponder<PeerRequestContext>
    let idleTimeout: TimeAmount
    let logger: Logger
    let onRunning: @Sendable () -> Void

    func run() async throws {
        let logger = self.logger
        let responder = self.responder
        let http = HTTP1Channel(responder: { request, writer, channel in
            let context = PeerRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            } catch {
                response = Response(status: .internalServerError)
            }
            response.headers[.server] = "jalmd"
            try await writer.write(response: response.head, body: response.body)
        }, configuration: .init(idleTimeout: .init(idleTimeout)))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(fd) { channel in http.setup(channel: channel, logger: logger) }
        onRunning()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await child in inbound {
                        group.addTask { await http.handle(value: child, logger: logger) }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting; systemd keeps the socket, and its next connections wait for the next jalmd.
            server.channel.close(promise: nil)
        }
    }
}
