#if canImport(Glibc)
import Glibc
#endif
import JALMWire

/// What the kernel tells a plugin at spawn, through its environment.
public struct LayerSetup: Sendable {
    /// The socket to the kernel (`JALM_FD`, 3 by default).
    public var fd: Int32
    /// The daemon's data folder (`JALM_DATA`).
    public var dataDir: String
    /// The largest frame either side may send (`JALM_MAX_FRAME`).
    public var maxFrameSize: Int
    /// Calls this process runs at once before it queues (`JALM_MAX_INFLIGHT`).
    public var maxInflight: Int
    /// The layer's settings: `layers.<name>` of jalmd.yml, secrets resolved (`JALM_LAYER_CONFIG`, JSON).
    public var config: JSONValue

    public static func fromEnvironment() -> LayerSetup {
        LayerSetup(
            fd: env(SpawnEnvironment.fd).flatMap { Int32($0) } ?? SpawnEnvironment.channelFD,
            dataDir: env(SpawnEnvironment.data) ?? ".jalm",
            maxFrameSize: env(SpawnEnvironment.maxFrame).flatMap { Int($0) } ?? 16 * 1024 * 1024,
            maxInflight: env(SpawnEnvironment.maxInflight).flatMap { Int($0) } ?? 64,
            config: env(SpawnEnvironment.layerConfig).flatMap { try? JSONParser.parse($0) } ?? .object([:]))
    }

    public static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}
