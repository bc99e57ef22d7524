#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import JALMKernel

/// SIGHUP (`systemctl reload jalmd`, `ExecReload=kill -HUP $MAINPID`) re-reads the configuration and hands
/// it to the kernel, which applies what it can live and logs the rest (docs/operations.md, "Reload").
enum ReloadSignal {
    /// Call first thing: SIGHUP's default action ends the process, and a reload must never do that.
    static func ignore() { signal(SIGHUP, SIG_IGN) }

    /// Starts listening; keep the returned source alive for as long as reloads should work.
    static func install(kernel: Kernel, logger: Logger,
                        resolve: @escaping @Sendable () throws -> KernelConfig) -> any DispatchSourceSignal {
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            logger.notice("SIGHUP: reloading the configuration")
            let config: KernelConfig
            do {
                config = try resolve()
            } catch {
                logger.error("reload refused: the configuration is invalid; the running one stays",
                             metadata: ["reload.error": "\(error)"])
                return
            }
            Task { _ = await kernel.reload(config) }
        }
        source.resume()
        return source
    }
}
