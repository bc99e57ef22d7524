#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// Opens `path` beneath the root; symlinks are followed only while they stay inside it.
    func openBeneath(_ path: String, _ flags: Int32, mode: Int32 = 0, action: String,
                     shownAs shown: String? = nil) throws(CallFailure) -> Int32 {
        let fd = jalm_openat2(rootFD, path, flags, mode, jalm_resolve_beneath())
        guard fd >= 0 else { throw Errno.failure(-fd, action, shown ?? path, resolving: true) }
        return fd
    }

    /// Opens the directory that holds `path`'s last component (`O_PATH`), creating the missing
    /// directories on the way when `create` is true.
    func openParent(_ path: RelativePath, create: Bool = false, action: String) throws(CallFailure) -> Int32 {
        let flags = O_DIRECTORY | jalm_o_path()
        guard create, !path.parent.hasPrefix("/") else {
            return try openBeneath(path.parent, flags, action: action, shownAs: path.text)
        }
        var fd = try openBeneath(".", flags, action: action, shownAs: path.text)
        var prefix = ""
        for component in path.parent.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            // Each prefix is resolved from the root again, so a symlinked directory on the way
            // is checked against the root, not against the directory that holds it.
            var next = jalm_openat2(rootFD, prefix, flags, 0, jalm_resolve_beneath())
            if next == -ENOENT {
                if mkdirat(fd, String(component), 0o755) != 0 && errno != EEXIST {
                    let code = errno
                    close(fd)
                    throw Errno.failure(code, action, path.text)
                }
                next = jalm_openat2(rootFD, prefix, flags, 0, jalm_resolve_beneath())
            }
            close(fd)
            guard next >= 0 else { throw Errno.failure(-next, action, path.text, resolving: true) }
            fd = next
        }
        return fd
    }

    /// Refuses `.` and `..` as the component a mutating op would act on.
    func requireEntry(_ path: RelativePath, key: String, op: String) throws(CallFailure) {
        guard path.namesNoEntry else { return }
        throw CallFailure(
            .invalidInput,
            "io-file.\(op): \"\(key)\" must name an entry beneath the data root, not \".\" or \"..\" "
                + "(\"\(path.text)\"); the data root itself cannot be changed",
            details: ["pointer": .string("/" + key), "path": .string(path.text)])
    }
}
