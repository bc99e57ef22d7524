/// An errno a seccomp rule returns, by name and number (x86_64 and aarch64 share these values).
/// A small table rather than strerrorname_np: a policy names only errnos a caller can fall back on.
public struct ErrnoCode: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: Int32

    static let table: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "EINTR": 4, "EIO": 5, "EBADF": 9, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
        "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "ENODEV": 19, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24,
        "ENOTTY": 25, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "ERANGE": 34, "ENOSYS": 38, "ENODATA": 61,
        "EOPNOTSUPP": 95, "EAFNOSUPPORT": 97, "EADDRNOTAVAIL": 99, "ENETUNREACH": 101, "ECONNREFUSED": 111,
    ]

    /// `ENOSYS`, `enosys` or a number from 1 to 4095 (what SECCOMP_RET_ERRNO can carry).
    public init?(_ text: String) {
        if let n = Int32(text), (1...4095).contains(n) {
            self.value = n
            self.name = Self.table.first { $0.value == n }?.key ?? text
            return
        }
        guard let n = Self.table[text.uppercased()] else { return nil }
        self.name = text.uppercased()
        self.value = n
    }

    public var description: String { name }
}
