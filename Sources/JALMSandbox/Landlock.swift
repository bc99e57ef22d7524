import CPosix

/// Landlock, the unprivileged filesystem (and, from ABI 4, TCP) access control the launcher applies.
public enum Landlock {
    /// The ABI version the kernel offers, 0 when Landlock is not built in or disabled at boot.
    /// ABI 1 filesystem, 2 refer, 3 truncate, 4 TCP bind/connect, 5 ioctl on devices, 6 signal and
    /// abstract-socket scoping, 7 logging.
    public static func abiVersion() -> Int { max(0, Int(jalm_landlock_abi_version())) }
}
