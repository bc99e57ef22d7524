#if canImport(Glibc)
import Glibc
#endif
import CPosix
import Hummingbird
import NIOCore

/// `struct ucred` (pid, uid, gid), which Swift's Glibc module hides without _GNU_SOURCE.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// The request context of the API: Hummingbird's, plus the connection, so that a handler can ask who is
/// on the other end of the control socket (SO_PEERCRED) — recorded with swaps.
public struct PeerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// "uid N pid P" for a Unix-socket peer, the remote address for TCP, "unknown" otherwise.
    func peer() async -> String {
        if let provider = channel as? any SocketOptionProvider,
           let cred: PeerCredentials = try? await provider.unsafeGetSocketOption(
               level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(jalm_so_peercred())).get(),
           cred.pid > 0 {
            return "uid \(cred.uid) pid \(cred.pid)"
        }
        return channel.remoteAddress.map { "\($0)" } ?? "unknown"
    }
}
