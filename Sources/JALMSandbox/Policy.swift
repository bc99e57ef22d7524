import JALMWire

/// A layer's sandbox policy as `sandbox/<layer>.yml` writes it, groups already expanded, placeholders
/// (`{data}`, `{bin}`, …) still in its paths. `effective(placeholders:)` resolves it for one host.
public struct SandboxPolicy: Sendable, Hashable {
    /// The layer the policy is for (`layer:`; must match the file name).
    public var layer: String
    /// What seccomp does with a syscall outside the allowlist.
    public var defaultAction: DefaultAction
    /// The syscall groups named by `syscalls.groups`, in file order.
    public var groups: [String]
    /// Every syscall allowed: the groups' members and `syscalls.extra`, sorted and unique.
    public var syscalls: [String]
    /// Syscalls that fail softly with an errno instead (`syscalls.errno`), for callers with a fallback.
    public var errno: [String: ErrnoCode]
    /// Whether the layer may open network connections.
    public var network: NetworkMode
    /// Paths (with placeholders) the layer may read, list and execute beneath.
    public var readOnly: [String]
    /// Paths (with placeholders) the layer may also create, write and delete beneath.
    public var readWrite: [String]
    /// Namespaces the launcher unshares, in the policy's order.
    public var namespaces: [Namespace]
    /// Resource limits the launcher sets with setrlimit(2).
    public var rlimits: [Rlimit]

    /// What seccomp does with a syscall the policy does not name.
    public enum DefaultAction: String, Sendable, Hashable, CaseIterable {
        /// SECCOMP_RET_KILL_PROCESS: the whole process dies by SIGSYS, which the kernel reports.
        case killProcess = "kill-process"
        /// SECCOMP_RET_ERRNO(EPERM): the call fails and the process goes on.
        case errno
    }

    /// Whether a layer reaches the network.
    public enum NetworkMode: String, Sendable, Hashable, CaseIterable {
        /// An empty network namespace (only a down loopback), and Landlock denies TCP where it can.
        case none
        /// Outgoing connections only: Landlock denies TCP bind where the ABI has it.
        case outbound
    }

    /// A namespace `jalm-launch --unshare` can create. The raw value is the launcher's name for it.
    public enum Namespace: String, Sendable, Hashable, CaseIterable {
        case net, ipc, uts, mount, user

        /// Its name under `/proc/PID/ns/`.
        public var procName: String { self == .mount ? "mnt" : rawValue }
    }

    /// One `setrlimit(2)` resource with its soft and hard value (nil = unlimited).
    public struct Rlimit: Sendable, Hashable {
        /// Names the launcher knows (`RLIMIT_` + upper-cased name).
        public static let names: Set<String> = ["nofile", "nproc", "as", "core", "fsize", "cpu", "memlock", "stack", "data"]

        public var name: String
        public var soft: UInt64?
        public var hard: UInt64?

        public init(name: String, soft: UInt64?, hard: UInt64?) {
            self.name = name
            self.soft = soft
            self.hard = hard
        }

        /// `NAME=SOFT[:HARD]` as `jalm-launch --rlimit` takes it; HARD is left out when it equals SOFT.
        public var launcherValue: String {
            let s = Self.text(soft), h = Self.text(hard)
            return s == h ? "\(name)=\(s)" : "\(name)=\(s):\(h)"
        }

        static func text(_ value: UInt64?) -> String { value.map(String.init) ?? "unlimited" }
    }

    /// The placeholders a policy path may use; `effective(placeholders:)` replaces them.
    public static let placeholderNames: Set<String> = ["data", "bin", "share", "exe", "plugin", "swift_runtime", "cgroup"]

    public init(layer: String, defaultAction: DefaultAction, groups: [String], syscalls: [String],
                errno: [String: ErrnoCode], network: NetworkMode, readOnly: [String], readWrite: [String],
                namespaces: [Namespace], rlimits: [Rlimit]) {
        self.layer = layer
        self.defaultAction = defaultAction
        self.groups = groups
        self.syscalls = syscalls
        self.errno = errno
        self.network = network
        self.readOnly = readOnly
        self.readWrite = readWrite
        self.namespaces = namespaces
        self.rlimits = rlimits
    }
}
