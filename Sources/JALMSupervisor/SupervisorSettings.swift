import JALMCore
import JALMWire

/// Timing and limits for supervising layer processes; every value is named in the config.
public struct SupervisorSettings: Sendable {
    public var restart = RestartPolicy()
    /// A process that has not greeted by then is killed and counts as a failed start.
    public var helloTimeout: Duration = .seconds(10)
    public var pingInterval: Duration = .seconds(5)
    /// A process whose last pong is older than this is killed and restarted.
    public var pingTimeout: Duration = .seconds(15)
    /// After a timeout's `cancel`, how long a call may take to stop before its process is killed.
    public var cancelGrace: Duration = .seconds(2)
    /// On shutdown, how long a layer's processes may take to finish their calls after `drain`.
    public var drainTimeout: Duration = .seconds(5)
    public var maxFrameSize = Frame.defaultMaxSize
    /// Where bare executable names in manifests are found.
    public var binDirectory: String
    public var dataDirectory: String
    /// Each layer's settings from `layers.<name>` in jalmd.yml, handed to its processes as JSON in
    /// `JALM_LAYER_CONFIG` at spawn, with `{secret: NAME}` references replaced by the secret's value.
    public var layerConfig: [String: JSONValue] = [:]
    /// Where `{secret: NAME}` references and `{{ secrets.NAME }}` templates are resolved.
    public var secrets: SecretStore

    public init(binDirectory: String, dataDirectory: String) {
        self.binDirectory = binDirectory
        self.dataDirectory = dataDirectory
        self.secrets = SecretStore.standard(secretsDirectory: dataDirectory + "/secrets")
    }
}
