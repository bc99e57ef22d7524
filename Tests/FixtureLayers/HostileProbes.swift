#if canImport(Glibc)
import Glibc
#endif
import CHostileProbes
import CPosix
import JALMLayerKit
import JALMWire

/// A plugin that tries, one op each, what a confined layer must not do, through ordinary calls, and
/// reports what the kernel answered: `{"ok": Bool, "errno": Int, "error": "EACCES" | null}`.
///
/// Under a kill-process seccomp policy a forbidden syscall never returns: the process dies by SIGSYS and
/// the kernel fails the step with `sandbox_violation`. That death is the expected answer, not a bug
/// here. The same ops with the sandbox off must answer `ok: true` (Tests/EndToEndTests/SandboxTests.swift),
/// so that a denial cannot come from a broken probe.
struct HostileHandler: LayerHandler {
    var ops: [String] {
        ["probe.socket_inet", "probe.tcp_connect", "probe.read", "probe.write", "probe.ptrace", "probe.mount",
         "probe.bpf", "probe.unshare", "probe.kill", "probe.connect_unix", "probe.fork_bomb", "probe.mem_bomb"]
    }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "probe.socket_inet": return Self.outcome(jalm_probe_tcp(0))
        case "probe.tcp_connect": return Self.outcome(jalm_probe_tcp(Int32(try Self.int(input, "port"))))
        case "probe.read": return Self.outcome(Self.readOneByte(try Self.string(input, "path")))
        case "probe.write": return Self.outcome(Self.writeFile(try Self.string(input, "path")))
        case "probe.ptrace": return Self.outcome(jalm_probe_ptrace(pid_t(input["pid"]?.intValue ?? 0)))
        case "probe.mount": return Self.outcome(jalm_probe_mount_tmpfs(try Self.string(input, "path")))
        case "probe.bpf": return Self.outcome(jalm_probe_bpf_prog_load())
        case "probe.unshare": return Self.outcome(jalm_probe_unshare_mount_ns())
        case "probe.kill": return Self.outcome(Self.signalZero(pid_t(try Self.int(input, "pid"))))
        case "probe.connect_unix": return Self.outcome(jalm_probe_connect_unix(try Self.string(input, "path")))
        case "probe.fork_bomb": return Self.forkBomb(Int32(try Self.int(input, "n")))
        case "probe.mem_bomb": return Self.memBomb(Int32(try Self.int(input, "mb")))
        default: throw CallFailure(.invalidInput, "unknown op \(op)")
        }
    }

    /// 0 (or a count) is success; a negative value is -errno.
    static func outcome(_ result: Int32, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var out: [String: JSONValue] = ["ok": .bool(result >= 0), "errno": .int(Int64(result < 0 ? -result : 0)),
                                        "error": result < 0 ? .string(errnoName(-result)) : .null]
        for (key, value) in extra { out[key] = value }
        return .object(out)
    }

    static func errnoName(_ err: Int32) -> String {
        jalm_errno_name(err).map { String(cString: $0) } ?? "E\(err)"
    }

    static func readOneByte(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return -errno }
        defer { close(fd) }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) < 0 ? -errno : 0
    }

    static func writeFile(_ path: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return -errno }
        defer { close(fd) }
        let bytes = Array("hostile\n".utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } < 0 ? -errno : 0
    }

    static func signalZero(_ pid: pid_t) -> Int32 {
        kill(pid, 0) < 0 ? -errno : 0
    }

    /// Forks within this process only; every child is killed and reaped before the answer.
    static func forkBomb(_ n: Int32) -> JSONValue {
        var stoppedBy: Int32 = 0
        let forked = jalm_probe_fork_bomb(n, &stoppedBy)
        return outcome(stoppedBy == 0 ? 0 : -stoppedBy, ["forked": .int(Int64(forked))])
    }

    /// With a memory limit the kernel OOM-kills this process before it answers.
    static func memBomb(_ mb: Int32) -> JSONValue {
        let touched = jalm_probe_mem_bomb(mb)
        return outcome(touched < 0 ? touched : (touched < mb ? -ENOMEM : 0), ["mb": .int(Int64(max(touched, 0)))])
    }

    static func string(_ input: JSONValue, _ key: String) throws(CallFailure) -> String {
        guard let value = input[key]?.stringValue else { throw CallFailure(.invalidInput, "\(key) must be a string") }
        return value
    }

    static func int(_ input: JSONValue, _ key: String) throws(CallFailure) -> Int64 {
        guard let value = input[key]?.intValue else { throw CallFailure(.invalidInput, "\(key) must be an integer") }
        return value
    }
}
