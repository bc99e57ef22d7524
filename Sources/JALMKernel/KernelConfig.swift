import JALMCapsule
import JALMCore
import JALMEngine
import JALMStore
import JALMSupervisor
import JALMWire

/// Everything `jalmd` can be told, from `jalmd.yml`, the environment and flags (flags win).
public struct KernelConfig: Sendable {
    public var dataDirectory: String
    /// The control socket; nil means `<data>/jalmd.sock`.
    public var socketPath: String?
    /// `HOST:PORT` for HTTP, or nil for no TCP listener.
    public var listen: String? = "127.0.0.1:8888"
    /// Required on TCP when set; mandatory when listening beyond loopback.
    public var token: String?
    /// The folder holding `kernel/` (catalog) and `plugins/` (manifests).
    public var shareDirectory: String
    /// Where bare plugin executable names are found.
    public var binDirectory: String
    /// Largest request body the API reads (capsules), in bytes.
    public var maxBodyBytes = 4 * 1024 * 1024
    /// An API connection that sends nothing for this long between requests (or stalls inside one) is closed.
    public var httpIdleTimeout: Duration = .seconds(60)
    public var supervisor: SupervisorSettings
    public var runner = RunnerSettings()
    public var journalSynchronous: Synchronous = .full
    /// How long a journal write that no one waits for may wait to share a commit with others.
    public var journalGroupDelay: Duration = SQLiteJournal.defaultGroupDelay
    /// `enforce` (default): a layer that cannot be confined does not start. `degraded`: it starts without
    /// cgroup limits, and /health, /layers and the log say so. `off`: no launcher at all (development).
    public var sandbox: SandboxMode = .enforce
    /// The user plugins run as (`name` or `uid:gid`); nil keeps jalmd's own uid, without capabilities.
    public var serviceUser: String?
    /// The folder of named secrets (one file each); nil means `<data>/secrets`.
    public var secretsDirectory: String?
    /// Where cgroupfs is mounted (a test points it at an empty folder to see a host without controllers).
    public var cgroupRoot = "/sys/fs/cgroup"

    public init(dataDirectory: String, shareDirectory: String, binDirectory: String) {
        self.dataDirectory = dataDirectory
        self.shareDirectory = shareDirectory
        self.binDirectory = binDirectory
        self.supervisor = SupervisorSettings(binDirectory: binDirectory, dataDirectory: dataDirectory)
    }

    public var resolvedSocketPath: String { socketPath ?? dataDirectory + "/jalmd.sock" }

    /// Applies a parsed `jalmd.yml`; unknown keys are errors so that a typo does not pass silently.
    public mutating func apply(file doc: JSONValue, name: String) throws(RunnerError) {
        guard case .object(let o) = doc else { throw RunnerError(.invalidInput, "\(name): must be a mapping", pointer: "") }
        for (key, value) in o {
            let at = JSONPointer([key])
            func string() throws(RunnerError) -> String? {
                if value.isNull { return nil }
                guard let s = value.stringValue else { throw RunnerError(.invalidInput, "\(name): \(key) must be a string", at: at) }
                return s
            }
            func duration() throws(RunnerError) -> Duration {
                guard let ms = DurationText.parseMilliseconds(value), ms >= 0 else {
                    throw RunnerError(.invalidInput, "\(name): \(key) must be a duration like 500ms, 10s or 2m", at: at)
                }
                return .milliseconds(ms)
            }
            func int(_ range: ClosedRange<Int64>) throws(RunnerError) -> Int {
                guard let i = value.intValue, range.contains(i) else {
                    throw RunnerError(.invalidInput, "\(name): \(key) must be an integer in \(range)", at: at)
                }
                return Int(i)
            }
            switch key {
            case "data":
                if let s = try string() {
                    dataDirectory = s
                    supervisor.dataDirectory = s
                }
            case "secrets_dir":
                // The store itself is made once the data folder is final (flags included): jalmd's Setup.
                secretsDirectory = try string()
            case "layers":
                guard case .object(let layers) = value else {
                    throw RunnerError(.invalidInput, "\(name): layers must map a layer name to its settings", at: at)
                }
                for (layer, settings) in layers {
                    guard case .object = settings else {
                        throw RunnerError(.invalidInput, "\(name): layers.\(layer) must be a mapping", at: at.appending(layer))
                    }
                    supervisor.layerConfig[layer] = settings
                }
            case "socket": socketPath = try string()
            case "listen": listen = try string()
            case "token": token = try string()
            case "share": if let s = try string() { shareDirectory = s }
            case "bin": if let s = try string() { binDirectory = s; supervisor.binDirectory = s }
            case "max_body_bytes": maxBodyBytes = try int(1024...1 << 30)
            case "http_idle_timeout": httpIdleTimeout = try duration()
            case "max_frame_bytes": supervisor.maxFrameSize = try int(4096...1 << 30)
            case "max_restarts": supervisor.restart.maxRestarts = try int(0...10_000)
            case "restart_window": supervisor.restart.window = try duration()
            case "restart_base_delay": supervisor.restart.baseDelay = try duration()
            case "restart_max_delay": supervisor.restart.maxDelay = try duration()
            case "hello_timeout": supervisor.helloTimeout = try duration()
            case "ping_interval": supervisor.pingInterval = try duration()
            case "ping_timeout": supervisor.pingTimeout = try duration()
            case "cancel_grace": supervisor.cancelGrace = try duration()
            case "layer_drain_timeout": supervisor.drainTimeout = try duration()
            case "restart_stable_after": supervisor.restart.stableAfter = try duration()
            case "drain_timeout": runner.drainTimeout = try duration()
            case "idempotency_retention":
                let d = try duration()
                guard d >= .seconds(1), d <= .seconds(90 * 86400) else {
                    throw RunnerError(.invalidInput, "\(name): idempotency_retention must be from 1s to 90 days", at: at)
                }
                runner.idempotencyRetention = d
            case "include_max_depth": runner.includeLimits.maxDepth = try int(1...64)
            case "include_max_fragment_bytes": runner.includeLimits.maxFragmentBytes = try int(1024...64 << 20)
            case "include_max_expanded_bytes": runner.includeLimits.maxExpandedBytes = try int(65_536...256 << 20)
            case "sandbox":
                guard let mode = try string().flatMap(SandboxMode.init(rawValue:)) else {
                    throw RunnerError(.invalidInput, "\(name): sandbox must be enforce, degraded or off", at: at)
                }
                sandbox = mode
            case "service_user": serviceUser = try string()
            case "cgroup_root": if let s = try string() { cgroupRoot = s }
            case "journal_sync":
                switch try string() {
                case "full": journalSynchronous = .full
                case "normal": journalSynchronous = .normal
                default: throw RunnerError(.invalidInput, "\(name): journal_sync must be full or normal", at: at)
                }
            case "journal_group_delay":
                let d = try duration()
                guard d <= .seconds(1) else {
                    throw RunnerError(.invalidInput, "\(name): journal_group_delay must be from 0 to 1s", at: at)
                }
                journalGroupDelay = d
            default:
                throw RunnerError(.invalidInput, "\(name): unknown setting \"\(key)\"", at: at)
            }
        }
    }

    /// Whether `listen` names a loopback address (127.0.0.0/8, ::1, localhost).
    public var listensOnLoopbackOnly: Bool {
        guard let listen else { return true }
        let host = Self.host(of: listen)
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public static func host(of listen: String) -> String {
        if listen.hasPrefix("["), let end = listen.firstIndex(of: "]") {
            return String(listen[listen.index(after: listen.startIndex)..<end])
        }
        return String(listen.split(separator: ":", omittingEmptySubsequences: false).dropLast().joined(separator: ":"))
    }

    public static func port(of listen: String) -> Int? {
        listen.split(separator: ":").last.flatMap { Int($0) }.flatMap { (1...65535).contains($0) ? $0 : nil }
    }
}
