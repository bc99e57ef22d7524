#if canImport(Glibc)
import Glibc
#endif
import JALMWire

/// cgroup v2 only: runs need cgroups of their own beneath this process's leaf, and v2 forbids a cgroup
/// with processes from handing controllers to its children. So the plugin moves itself into
/// `<leaf>/layer` and enables memory, pids and cpu for the leaf's children before any zygote starts.
/// On v1 (this host) nothing is needed: each controller's leaf may have child cgroups as it is.
enum CgroupDelegation {
    static func prepare() throws(CallFailure) {
        guard let text = read("/proc/self/cgroup") else { return }
        let lines = text.split(separator: "\n")
        let v1 = lines.contains { $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)[1].contains("memory") }
        guard !v1, let line = lines.first(where: { $0.hasPrefix("0::") }) else { return }
        var path = String(line.dropFirst(3))
        if path.hasSuffix("/layer") { path = String(path.dropLast(6)) }
        guard path != "/" else { return }
        let leaf = "/sys/fs/cgroup" + path
        let layer = leaf + "/layer"
        if mkdir(layer, 0o755) != 0 && errno != EEXIST { throw fail("mkdir \(layer)", errno) }
        if let e = write(layer + "/cgroup.procs", "0") { throw fail("joining \(layer)", e) }
        if let e = write(leaf + "/cgroup.subtree_control", "+memory +pids +cpu") { throw fail("enabling controllers in \(leaf)", e) }
    }

    private static func fail(_ what: String, _ e: Int32) -> CallFailure {
        CallFailure(.sandboxViolation, "compute-script cannot make cgroups for its runs: \(what): errno \(e)")
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ path: String, _ value: String) -> Int32? {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) } == bytes.count ? nil : errno
    }
}
