#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `write {path, content, encoding, create_dirs, max_bytes, sha256}` → `{path, size, sha256?}`, atomically:
    /// a reader sees the old file or the new one, never a part, and a crash leaves one of the two.
    func writeFile(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "write", value,
                                allowed: ["path", "content", "encoding", "create_dirs", "max_bytes", "sha256"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "write")
        let bytes = try input.encoding().bytes(of: try input.string("content"), op: "write")
        let createDirs = try input.bool("create_dirs", default: false)
        let maxBytes = try input.maxBytes(setting: "max_write_bytes", settings.maxWriteBytes)
        try requireWithin(bytes.count, maxBytes, path: path, what: "content")
        var out: [String: JSONValue] = ["path": .string(path.text), "size": .int(Int64(bytes.count))]
        if try input.bool("sha256", default: false) { out["sha256"] = .string(SHA256.hex(bytes)) }
        if dryRun {
            try previewReplace(path, createDirs: createDirs, action: "write")
            out["dry_run"] = true
            return .object(out)
        }
        let parent = try openParent(path, create: createDirs, action: "write")
        defer { close(parent) }
        try replaceAtomically(parent: parent, path: path) { fd in FileIO.writeAll(fd, bytes) }
        return .object(out)
    }

    /// A `resource_exhausted` failure when `size` is over `limit`.
    func requireWithin(_ size: Int, _ limit: Int, path: RelativePath, what: String) throws(CallFailure) {
        guard size > limit else { return }
        throw CallFailure(
            .resourceExhausted,
            "cannot write \"\(path.text)\": \(what) is \(size) bytes, over the max_bytes limit of \(limit) bytes",
            retryable: false,
            details: ["path": .string(path.text), "size": .int(Int64(size)), "max_bytes": .int(Int64(limit))])
    }

    /// What a dry run of a replacing write checks without changing anything: the parent resolves beneath
    /// the root (or would be created), the target is not a directory, and with `noReplace` it does not exist.
    func previewReplace(_ path: RelativePath, createDirs: Bool, action: String, noReplace: Bool = false) throws(CallFailure) {
        let parent: Int32
        do {
            parent = try openParent(path, action: action)
        } catch where error.code == .notFound && createDirs {
            return  // the missing directories would be created
        }
        defer { close(parent) }
        var st = stat()
        // AT_SYMLINK_NOFOLLOW: a symlink there is replaced by the write, and is never followed outside the root.
        guard fstatat(parent, path.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if EntryType(mode: st.st_mode) == .dir { throw Errno.failure(EISDIR, action, path.text) }
        if noReplace { throw Self.targetExists(path) }
    }

    static func targetExists(_ path: RelativePath) -> CallFailure {
        CallFailure(.conflict, "cannot write \"\(path.text)\": it exists; set overwrite: true",
                    details: ["path": .string(path.text)])
    }

    /// Temp file in the same directory, filled by `fill`, fsync, rename over the target (or beside it,
    /// refusing an existing target, when `noReplace`), fsync the directory. The temp file is unlinked on
    /// every failure path, and holds an flock while it exists, so that a start-up sweep can tell the temp
    /// of a dead writer (unlocked) from one in flight (`TempSweep`).
    func replaceAtomically(parent: Int32, path: RelativePath, noReplace: Bool = false,
                           fill: (Int32) -> Errno.Code?) throws(CallFailure) {
        var existing = stat()
        let exists = fstatat(parent, path.name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        // Refused before anything is written; RENAME_NOREPLACE below still catches one made meanwhile.
        if exists && noReplace { throw Self.targetExists(path) }
        let tempName = IOFileLimits.tempPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = openat2Beneath(parent, tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, mode: 0o644)
        guard fd >= 0 else { throw Errno.failure(-fd, "write", path.text, resolving: true) }
        var renamed = false
        defer { if !renamed { unlinkat(parent, tempName, 0) } }
        _ = flock(fd, LOCK_EX)

        if exists && EntryType(mode: existing.st_mode) == .file {
            _ = fchmod(fd, existing.st_mode & 0o777)  // keep the mode of the file being replaced
        }
        var failure = fill(fd)
        if failure == nil && fsync(fd) != 0 { failure = Errno.Code(errno) }
        if close(fd) != 0 && failure == nil { failure = Errno.Code(errno) }
        if let failure { throw Errno.failure(failure.value, "write", path.text) }

        let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, renameat2(2)
        let r = jalm_renameat2(parent, tempName, parent, path.name, noReplace ? renameNoReplace : 0)
        if r == -EEXIST { throw Self.targetExists(path) }
        guard r == 0 else { throw Errno.failure(-r, "write", path.text) }
        renamed = true
        try syncDirectory(parent, path: path.text, action: "write")
    }

    /// fsync(2) of a directory needs a readable descriptor, not the O_PATH one.
    func syncDirectory(_ dir: Int32, path: String, action: String) throws(CallFailure) {
        let fd = openat2Beneath(dir, ".", O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw Errno.failure(-fd, action, path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Errno.failure(errno, action, path) }
    }

    /// `append {path, content, encoding, create, max_bytes}` → `{path, size}` with the file's new size.
    /// One `write(2)` on an `O_APPEND` descriptor per chunk: concurrent appenders never overwrite each other.
    func appendFile(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "append", value, allowed: ["path", "content", "encoding", "create", "max_bytes"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "append")
        let bytes = try input.encoding().bytes(of: try input.string("content"), op: "append")
        let create = try input.bool("create", default: true)
        let maxBytes = try input.maxBytes(setting: "max_write_bytes", settings.maxWriteBytes)
        try requireWithin(bytes.count, maxBytes, path: path, what: "content")
        if dryRun {
            let fd = openat2Beneath(rootFD, path.text, O_RDONLY | O_NONBLOCK | O_NOCTTY)
            if fd == -ENOENT && create {
                _ = try openParent(path, action: "append to").closing()
                return ["path": .string(path.text), "size": .int(Int64(bytes.count)), "dry_run": true]
            }
            guard fd >= 0 else { throw Errno.failure(-fd, "append to", path.text, resolving: true) }
            defer { close(fd) }
            let st = try regularFileStatus(fd, path, action: "append to")
            return ["path": .string(path.text), "size": .int(Int64(st.st_size) + Int64(bytes.count)), "dry_run": true]
        }
        let flags = O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | (create ? O_CREAT : 0)
        // openat2(2) refuses a mode without O_CREAT (EINVAL), unlike openat.
        let fd = try openBeneath(path.text, flags, mode: create ? 0o644 : 0, action: "append to")
        defer { close(fd) }
        _ = try regularFileStatus(fd, path, action: "append to")
        if let e = FileIO.writeAll(fd, bytes) { throw Errno.failure(e.value, "append to", path.text) }
        guard fsync(fd) == 0 else { throw Errno.failure(errno, "append to", path.text) }
        switch FileIO.fileStatus(fd) {
        case .success(let after): return ["path": .string(path.text), "size": .int(Int64(after.st_size))]
        case .failure(let e): throw Errno.failure(e.value, "append to", path.text)
        }
    }
}

extension Int32 {
    /// Closes a descriptor opened only to check that it can be (dry runs).
    func closing() -> Int32 {
        close(self)
        return self
    }
}
