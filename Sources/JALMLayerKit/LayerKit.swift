#if canImport(Glibc)
import Glibc
#endif
import JALMWire

/// The skeleton every Swift plugin runs: greet, serve calls until EOF or `drain`, exit.
public enum LayerKit {
    /// The ops LayerKit answers itself, in every layer.
    public static let systemOps = ["sys.echo", "sys.sleep"]

    /// Serves `handler` on the kernel socket named by the environment; never returns.
    public static func serve(
        layer: String, version: String,
        makeHandler: (LayerSetup) throws -> any LayerHandler
    ) async -> Never {
        let setup = LayerSetup.fromEnvironment()
        signal(SIGPIPE, SIG_IGN)
        let handler: any LayerHandler
        do {
            handler = try makeHandler(setup)
        } catch {
            printToStandardError("\(layer): cannot start: \(error)")
            exit(70)
        }
        let server = LayerServer(layer: layer, version: version, setup: setup, handler: handler)
        await server.run()
    }
}
