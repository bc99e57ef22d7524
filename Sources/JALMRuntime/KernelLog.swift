#if canImport(Glibc)
import Glibc
#endif
import CSeccomp

/// Reads the kernel's log for the audit record a seccomp kill leaves
/// (`audit: type=1326 … pid=N … syscall=NR …`), to name the syscall that broke the policy.
enum KernelLog {
    /// The offending syscall of process `pid`, as "name (nr)", or nil when the log has no record of it
    /// (no permission to read /dev/kmsg, or the kernel logs no seccomp actions).
    static func seccompSyscall(pid: Int32) -> String? {
        // The audit record is printed by kauditd after the kill, not during it: give it a moment.
        var nr: Int32?
        for _ in 0..<25 {
            nr = lastSeccompRecord(pid: pid)
            if nr != nil { break }
            usleep(10_000)
        }
        guard let nr else { return nil }
        guard let cName = jalm_syscall_name(nr) else { return "syscall \(nr)" }
        defer { free(cName) }
        return "\(String(cString: cName)), syscall \(nr)"
    }

    /// Scans /dev/kmsg once (non-blocking) for the newest type=1326 record of `pid`.
    static func lastSeccompRecord(pid: Int32) -> Int32? {
        let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var found: Int32?
        var buffer = [UInt8](repeating: 0, count: 8192)
        let needle = " pid=\(pid) "
        while true {
            // Each read returns one record; EAGAIN at the end, EPIPE when a record was overwritten.
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EPIPE || errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            let line = String(decoding: buffer[0..<n], as: UTF8.self)
            guard line.contains("type=1326"), line.contains(needle) else { continue }
            if let r = line.firstRange(of: " syscall=") {
                let digits = line[r.upperBound...].prefix { $0.isNumber }
                found = Int32(digits)
            }
        }
        return found
    }
}
