#if canImport(Glibc)
import Glibc
#endif
import JALMCore
import Synchronization

/// Creates one cgroup leaf per layer process (or compute-script run) beneath the daemon's own cgroup and
/// sets its limits. It never writes outside the daemon's own subtree: every path is checked first
/// (`CgroupManagerTests.nothingIsWrittenOutsideTheOwnSubtree`).
public final class CgroupManager: Sendable {
    /// The interface in use; `.none` makes `prepare` fail.
    public let mode: CgroupMode
    /// Where the hierarchies are mounted (`/sys/fs/cgroup`, or a test's folder).
    public let root: String
    /// Controller → the daemon's own path in it, from /proc/self/cgroup; `""` is the v2 hierarchy.
    let ownPaths: [String: String]
    /// v2: whether the daemon has moved itself into `<own>/supervisor` and enabled the controllers.
    let delegated = Mutex(false)

    /// `selfCgroup` is the text of /proc/self/cgroup (read when nil), so tests can pose as any cgroup.
    public init(mode: CgroupMode, root: String = "/sys/fs/cgroup", selfCgroup: String? = nil) {
        self.mode = mode
        self.root = root
        self.ownPaths = Self.parseOwnPaths(selfCgroup ?? SysFile.read("/proc/self/cgroup") ?? "")
    }

    /// The daemon's own path in `controller`'s hierarchy (`""` for v2), as /proc/self/cgroup says; on v2
    /// a trailing `/supervisor` (where the daemon moved itself) is dropped, so a second manager agrees.
    public func ownPath(controller: String) -> String? {
        guard let path = ownPaths[controller] else { return nil }
        return controller.isEmpty ? Self.v2Own(path) : path
    }

    /// The daemon's own folder for `controller` (`<root>/<controller><own>`, or `<root><own>` on v2).
    public func ownDirectory(controller: String) -> String? {
        ownPath(controller: controller).map { Placeholders.normalize(root + (controller.isEmpty ? "" : "/" + controller) + $0) }
    }

    /// Makes (or reuses) the leaf `name` and applies `limits` to it.
    public func prepare(name: String, limits: ResourceLimits) throws(RunnerError) -> CgroupLeaf {
        guard PolicyFile.isIdentifier(name, extra: "-."), !name.hasPrefix(".") else {
            throw RunnerError(.internal, "cgroup leaf name \"\(name)\" is not [a-z0-9_.-]+")
        }
        switch mode {
        case .v1: return try prepareV1(name: name, limits: limits)
        case .v2: return try prepareV2(name: name, limits: limits)
        case .none: throw RunnerError(.sandboxViolation, "no usable cgroup controllers under \(root)")
        }
    }

    /// `hierarchy-id:controllers:path` lines → controller → path; the v2 line (`0::/path`) is key `""`.
    static func parseOwnPaths(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[1].isEmpty { out[""] = path; continue }
            for c in parts[1].split(separator: ",") { out[String(c)] = path }
        }
        return out
    }

    static func v2Own(_ path: String) -> String {
        guard path.hasSuffix("/supervisor") else { return path }
        let parent = String(path.dropLast("/supervisor".count))
        return parent.isEmpty ? "/" : parent
    }

    // MARK: writing, only beneath the own folder

    /// Refuses any path that is not strictly beneath `base` or has a `..` in it.
    func check(_ path: String, beneath base: String) throws(RunnerError) {
        guard path.hasPrefix(base + "/"), !path.split(separator: "/").contains(".."),
              !path.split(separator: "/").contains(".") else {
            throw RunnerError(.internal, "refusing to touch \(path): it is not beneath the daemon's own cgroup \(base)")
        }
    }

    func makeDirectory(_ path: String, beneath base: String) throws(RunnerError) {
        try check(path, beneath: base)
        let e = SysFile.makeDirectory(path)
        guard e == 0 else { throw RunnerError(.sandboxViolation, "mkdir \(path): \(SysFile.errnoText(e))") }
    }

    func write(_ path: String, _ value: String, beneath base: String) throws(RunnerError) {
        try check(path, beneath: base)
        let e = SysFile.write(path, value, create: true)
        guard e == 0 else { throw RunnerError(.sandboxViolation, "write \"\(value)\" to \(path): \(SysFile.errnoText(e))") }
    }
}
