#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `write {path, content, encoding, create_dirs, max_bytes}` → `{path, size}`, atomically:
    /// a reader sees the old file or the new one, never a part.
    func writeFile(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "write", value,
                                allowed: ["path", "content", "encoding", "create_dirs", "max_bytes"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "write")
        let bytes = try input.encoding().bytes(of: try input.string("content"), op: "write")
        let createDirs = try input.bool("create_dirs", default: false)
        let maxBytes = try input.maxBytes()
        guard bytes.count <= maxBytes else {
            throw CallFailure(
                .resourceExhausted,
                "cannot write \"\(path.text)\": content is \(bytes.count) bytes, over the max_bytes limit of \(maxBytes) bytes",
                retryable: false,
                details: ["path": .string(path.text), "size": .int(Int64(bytes.count)), "max_bytes": .int(Int64(maxBytes))])
        }
        let parent = try openParent(path, create: createDirs, action: "write")
        defer { close(parent) }
        try replaceAtomically(parent: parent, path: path, bytes: bytes)
        return ["path": .string(path.text), "size": .int(Int64(bytes.count))]
    }

    /// Temp file in the same directory, fsync, rename over the target, fsync the directory.
    /// The temp file is unlinked on every failure path.
    private func replaceAtomically(parent: Int32, path: RelativePath, bytes: [UInt8]) throws(CallFailure) {
        let tempName = ".\(path.name).jalm-tmp-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let fd = jalm_openat2(parent, tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, 0o644, jalm_resolve_beneath())
        guard fd >= 0 else { throw Errno.failure(-fd, "write", path.text, resolving: true) }
        var renamed = false
        defer { if !renamed { unlinkat(parent, tempName, 0) } }

        var existing = stat()
        if fstatat(parent, path.name, &existing, AT_SYMLINK_NOFOLLOW) == 0 && EntryType(mode: existing.st_mode) == .file {
            _ = fchmod(fd, existing.st_mode & 0o777)  // keep the mode of the file being replaced
        }
        var failure = FileIO.writeAll(fd, bytes)
        if failure == nil && fsync(fd) != 0 { failure = Errno.Code(errno) }
        if close(fd) != 0 && failure == nil { failure = Errno.Code(errno) }
        if let failure { throw Errno.failure(failure.value, "write", path.text) }

        let r = jalm_renameat2(parent, tempName, parent, path.name, 0)
        guard r == 0 else { throw Errno.failure(-r, "write", path.text) }
        renamed = true
        try syncDirectory(parent, path: path.text, action: "write")
    }

    /// fsync(2) of a directory needs a readable descriptor, not the O_PATH one.
    func syncDirectory(_ dir: Int32, path: String, action: String) throws(CallFailure) {
        let fd = jalm_openat2(dir, ".", O_RDONLY | O_DIRECTORY, 0, jalm_resolve_beneath())
        guard fd >= 0 else { throw Errno.failure(-fd, action, path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Errno.failure(errno, action, path) }
    }

    /// `append {path, content, encoding, create}` → `{path, size}` with the file's new size.
    func appendFile(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "append", value, allowed: ["path", "content", "encoding", "create"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "append")
        let bytes = try input.encoding().bytes(of: try input.string("content"), op: "append")
        let create = try input.bool("create", default: true)
        let flags = O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | (create ? O_CREAT : 0)
        // openat2(2) refuses a mode without O_CREAT (EINVAL), unlike openat.
        let fd = try openBeneath(path.text, flags, mode: create ? 0o644 : 0, action: "append to")
        defer { close(fd) }
        let before: stat
        switch FileIO.fileStatus(fd) {
        case .success(let s): before = s
        case .failure(let e): throw Errno.failure(e.value, "append to", path.text)
        }
        let type = EntryType(mode: before.st_mode)
        guard type == .file else {
            throw CallFailure(.invalidInput, "cannot append to \"\(path.text)\": it is a \(type.rawValue), not a file",
                              details: ["path": .string(path.text)])
        }
        if let e = FileIO.writeAll(fd, bytes) { throw Errno.failure(e.value, "append to", path.text) }
        guard fsync(fd) == 0 else { throw Errno.failure(errno, "append to", path.text) }
        switch FileIO.fileStatus(fd) {
        case .success(let after): return ["path": .string(path.text), "size": .int(Int64(after.st_size))]
        case .failure(let e): throw Errno.failure(e.value, "append to", path.text)
        }
    }
}
