#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `list {path}` → `{entries: [{name, type, size}]}`, sorted by name, without `.` and `..`.
    func listDirectory(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "list", value, allowed: ["path"])
        let path = try input.path("path", default: ".")
        let fd = try openBeneath(path.text, O_RDONLY | O_DIRECTORY, action: "list")
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw Errno.failure(code, "list", path.text)
        }
        defer { closedir(dir) }
        var entries: [(name: String, value: JSONValue)] = []
        for result in DirectoryEntries(dir) {
            let name: String
            switch result {
            case .success(let n): name = n
            case .failure(let e): throw Errno.failure(e.value, "list", path.text)
            }
            var st = Glibc.stat()
            // An entry removed between readdir and fstatat is simply not listed.
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard entries.count < IOFileLimits.maxListEntries else {
                throw CallFailure(
                    .resourceExhausted,
                    "cannot list \"\(path.text)\": it has more than \(IOFileLimits.maxListEntries) entries",
                    retryable: false,
                    details: ["path": .string(path.text), "max_entries": .int(Int64(IOFileLimits.maxListEntries))])
            }
            let type = EntryType(mode: st.st_mode)
            entries.append((name, ["name": .string(name), "type": .string(type.rawValue),
                                   "size": .int(type.reportedSize(st))]))
        }
        entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return ["entries": .array(entries.map(\.value))]
    }

    /// `stat {path}` → `{path, type, size, mode, mtime_ms}`; a symlink is described, not followed.
    func statEntry(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "stat", value, allowed: ["path"])
        let path = try input.path("path")
        var st = Glibc.stat()
        if path.namesNoEntry {
            // `.`/`..` have no entry in a parent to look at: resolve the whole path beneath the root.
            let fd = try openBeneath(path.text, O_DIRECTORY | jalm_o_path(), action: "stat")
            defer { close(fd) }
            guard fstatat(fd, "", &st, jalm_at_empty_path()) == 0 else { throw Errno.failure(errno, "stat", path.text) }
        } else {
            let parent = try openParent(path, action: "stat")
            defer { close(parent) }
            guard fstatat(parent, path.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw Errno.failure(errno, "stat", path.text)
            }
        }
        let type = EntryType(mode: st.st_mode)
        let permissions = String(st.st_mode & 0o7777, radix: 8)
        return [
            "path": .string(path.text),
            "type": .string(type.rawValue),
            "size": .int(type.reportedSize(st)),
            "mode": .string(String(repeating: "0", count: max(0, 4 - permissions.count)) + permissions),
            "mtime_ms": .int(Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000),
        ]
    }
}

/// The names in an open directory, without `.` and `..`; a readdir failure ends the sequence.
struct DirectoryEntries: Sequence, IteratorProtocol {
    let dir: OpaquePointer
    var failed = false

    init(_ dir: OpaquePointer) { self.dir = dir }

    mutating func next() -> Result<String, Errno.Code>? {
        while !failed {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno == 0 { return nil }
                failed = true
                return .failure(Errno.Code(errno))
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { return .success(name) }
        }
        return nil
    }
}
