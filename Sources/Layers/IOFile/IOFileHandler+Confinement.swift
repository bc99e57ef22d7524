#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// The one place io-file opens anything: `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`
    /// relative to `dir`, which is the root's descriptor or a directory this function opened beneath it.
    /// `..`, absolute paths, `/proc` magic links and symlinks that lead outside `dir` fail with EXDEV or
    /// ELOOP, decided by the kernel at each step of the walk, so a symlink swapped mid-call cannot win.
    /// Returns the descriptor (O_CLOEXEC) or -errno. A test checks that no other file calls openat2.
    func openat2Beneath(_ dir: Int32, _ path: String, _ flags: Int32, mode: Int32 = 0) -> Int32 {
        jalm_openat2(dir, path, flags, mode, jalm_resolve_beneath())
    }

    /// Opens `path` beneath the root; symlinks are followed only while they stay inside it.
    func openBeneath(_ path: String, _ flags: Int32, mode: Int32 = 0, action: String,
                     shownAs shown: String? = nil) throws(CallFailure) -> Int32 {
        let fd = openat2Beneath(rootFD, path, flags, mode: mode)
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
            var next = openat2Beneath(rootFD, prefix, flags)
            if next == -ENOENT {
                if mkdirat(fd, String(component), 0o755) != 0 && errno != EEXIST {
                    let code = errno
                    close(fd)
                    throw Errno.failure(code, action, path.text)
                }
                next = openat2Beneath(rootFD, prefix, flags)
            }
            close(fd)
            guard next >= 0 else { throw Errno.failure(-next, action, path.text, resolving: true) }
            fd = next
        }
        return fd
    }

    /// Refuses `.` and `..` as the component a mutating op would act on, and the names of io-file's own
    /// temp files, which belong to writes in flight.
    func requireEntry(_ path: RelativePath, key: String, op: String) throws(CallFailure) {
        if path.name.hasPrefix(IOFileLimits.tempPrefix) {
            throw CallFailure(
                .invalidInput,
                "io-file.\(op): \"\(key)\" names an io-file temp file (\"\(IOFileLimits.tempPrefix)*\"), which belongs to a write in flight",
                details: ["pointer": .string("/" + key), "path": .string(path.text)])
        }
        guard path.namesNoEntry else { return }
        throw CallFailure(
            .invalidInput,
            "io-file.\(op): \"\(key)\" must name an entry beneath the data root, not \".\" or \"..\" "
                + "(\"\(path.text)\"); the data root itself cannot be changed",
            details: ["pointer": .string("/" + key), "path": .string(path.text)])
    }

    /// Opens `path` as a regular file for reading (never a FIFO's hang, never a device), refusing a file
    /// with more than one hard link unless the settings allow it. Returns the descriptor and its stat.
    func openRegularFile(_ path: RelativePath, action: String, flags extra: Int32 = 0) throws(CallFailure) -> (Int32, stat) {
        // O_NONBLOCK: opening a FIFO must not hang the call; it is refused below as not a regular file.
        let fd = try openBeneath(path.text, O_RDONLY | O_NONBLOCK | O_NOCTTY | extra, action: action)
        do {
            let st = try regularFileStatus(fd, path, action: action)
            return (fd, st)
        } catch {
            close(fd)
            throw error
        }
    }

    /// The stat of `fd` if it is a regular file with one link (or hardlinks are allowed).
    func regularFileStatus(_ fd: Int32, _ path: RelativePath, action: String) throws(CallFailure) -> stat {
        let st: stat
        switch FileIO.fileStatus(fd) {
        case .success(let s): st = s
        case .failure(let e): throw Errno.failure(e.value, action, path.text)
        }
        let type = EntryType(mode: st.st_mode)
        guard type == .file else {
            throw CallFailure(.invalidInput, "cannot \(action) \"\(path.text)\": it is a \(type.rawValue), not a file",
                              details: ["path": .string(path.text)])
        }
        guard st.st_nlink <= 1 || settings.allowHardlinks else {
            throw CallFailure(
                .invalidInput,
                "cannot \(action) \"\(path.text)\": it has \(st.st_nlink) hard links, and another link may be outside "
                    + "the data root; hard-linked files are refused unless layers.io-file.allow_hardlinks is true",
                details: ["path": .string(path.text), "reason": "hardlink", "links": .int(Int64(st.st_nlink))])
        }
        return st
    }
}
