#if canImport(Glibc)
import Glibc
#endif

/// Which interpreters this host has, and what a run may read of the system.
enum Languages {
    /// The configured interpreters that exist and are executable (a missing `node` is simply not offered).
    static func detect(_ interpreters: [String: String]) -> [String: String] {
        interpreters.filter { access($0.value, X_OK) == 0 }
    }

    /// What every run may read (and execute): the system's programs and libraries, the linker cache, the
    /// time zone, OpenSSL's config (node reads it at start), the CPU list (os.cpu_count, nproc) and
    /// /dev/urandom. Its own temp folder is its only writable place (and /dev/null).
    static let runReadOnly = [
        "/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/openssl.cnf",
        "/sys/devices/system/cpu", "/dev/urandom",
    ]

    static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(cString: buf)
    }
}
