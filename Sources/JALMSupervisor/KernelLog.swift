#if canImport(Glibc)
import Glibc
#endif
import CSeccomp

/// Reads the kernel's log for the audit record a seccomp kill leaves
/// (`audit: type=1326 … pid=N … syscall=NR …`), to name the syscall that broke the policy.
enum KernelLog {
    /// A reader of /dev/kmsg positioned at its end: opened before a plugin starts, it sees only records
    /// written after that, so a reused pid's old record cannot be mistaken for this process's. -1 when
    /// the log cannot be read.
    static func openCursor() -> Int32 {
        let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        lseek(fd, 0, SEEK_END)
        return fd
    }

    /// The offending syscall of process `pid`, as "name, syscall nr", read through `cursor`, or nil when
    /// the log has no record of it (no permission to read /dev/kmsg, or printk's rate limit dropped it).
    static func seccompSyscall(pid: Int32, cursor: Int32) -> String? {
        guard cursor >= 0 else { return nil }
        // The audit record is printed by kauditd after the kill, not during it: give it a moment.
        var nr: Int32?
        for _ in 0..<25 {
            nr = nextSeccompRecord(pid: pid, cursor: cursor)
            if nr != nil { break }
            usleep(10_000)
        }
        guard let nr else { return nil }
        guard let cName = jalm_syscall_name(nr) else { return "syscall \(nr)" }
        defer { free(cName) }
        return "\(String(cString: cName)), syscall \(nr)"
    }

    /// Reads the records that arrived since the cursor's last read; the syscall of `pid`'s kill, if one is there.
    static func nextSeccompRecord(pid: Int32, cursor fd: Int32) -> Int32? {
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
                found = Int32(line[r.upperBound...].prefix { $0.isNumber })
            }
        }
        return found
    }
}
