#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `list {path, glob, depth, limit, cursor}` → `{entries: [{name, type, size}], next_cursor?}`.
    /// `name` is the path relative to the listed directory, entries are sorted by it (bytewise), and a page
    /// holds at most `limit` of them; `next_cursor` (the last name) asks for the next page. `depth` 0 lists
    /// the directory itself, n also n levels below it; symlinked directories are listed, never descended.
    /// A `glob` with a `/` matches the relative path, one without matches the last component. Temp files
    /// of writes in flight are never shown.
    func listDirectory(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "list", value, allowed: ["path", "glob", "depth", "limit", "cursor"])
        let path = try input.path("path", default: ".")
        let glob = try input.optionalString("glob")
        let depth = try input.int("depth", default: 0, in: 0...IOFileLimits.maxListDepth)
        let limit = try input.limit("limit", setting: "max_list_entries", settings.maxListEntries, minimum: 1)
        let cursor = try input.optionalString("cursor")
        let fd = try openBeneath(path.text, O_RDONLY | O_DIRECTORY, action: "list")
        var walk = ListWalk(handler: self, shown: path.text, glob: glob, maxDepth: depth, scanLimit: settings.maxListScan)
        try walk.visit(fd, prefix: "", depth: 0)  // takes fd
        var entries = walk.found
        entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        if let cursor { entries.removeAll { !cursor.utf8.lexicographicallyPrecedes($0.name.utf8) } }
        var out: [String: JSONValue] = ["entries": .array(entries.prefix(limit).map(\.value))]
        if entries.count > limit { out["next_cursor"] = .string(entries[limit - 1].name) }
        return .object(out)
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

/// One `list` walk: depth-first beneath an open directory, never following a symlink, bounded in the
/// entries it may visit.
struct ListWalk {
    let handler: IOFileHandler
    let shown: String
    let glob: String?
    let maxDepth: Int
    let scanLimit: Int
    var scanned = 0
    var found: [(name: String, value: JSONValue)] = []

    init(handler: IOFileHandler, shown: String, glob: String?, maxDepth: Int, scanLimit: Int) {
        self.handler = handler
        self.shown = shown
        self.glob = glob
        self.maxDepth = maxDepth
        self.scanLimit = scanLimit
    }

    /// Lists the directory open as `fd` (and closes it), its entries named `prefix` + name.
    mutating func visit(_ fd: Int32, prefix: String, depth: Int) throws(CallFailure) {
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw Errno.failure(code, "list", shown)
        }
        defer { closedir(dir) }
        for result in DirectoryEntries(dir) {
            let name: String
            switch result {
            case .success(let n): name = n
            case .failure(let e): throw Errno.failure(e.value, "list", shown)
            }
            if name.hasPrefix(IOFileLimits.tempPrefix) { continue }
            scanned += 1
            guard scanned <= scanLimit else {
                throw CallFailure(
                    .resourceExhausted,
                    "cannot list \"\(shown)\": the walk visits more than \(scanLimit) entries (layers.io-file.max_list_scan); "
                        + "list a smaller directory or a lower depth",
                    retryable: false, details: ["path": .string(shown), "max_list_scan": .int(Int64(scanLimit))])
            }
            var st = Glibc.stat()
            // An entry removed between readdir and fstatat is simply not listed.
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let type = EntryType(mode: st.st_mode)
            let relative = prefix + name
            if matches(relative, name) {
                found.append((relative, ["name": .string(relative), "type": .string(type.rawValue),
                                         "size": .int(type.reportedSize(st))]))
            }
            if type == .dir && depth < maxDepth {
                // O_NOFOLLOW: a directory swapped for a symlink since the fstatat is refused, not descended.
                let child = handler.openat2Beneath(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                if child == -ENOENT || child == -ELOOP || child == -ENOTDIR { continue }
                guard child >= 0 else { throw Errno.failure(-child, "list", shown + "/" + relative, resolving: true) }
                try visit(child, prefix: relative + "/", depth: depth + 1)
            }
        }
    }

    private func matches(_ relative: String, _ name: String) -> Bool {
        guard let glob else { return true }
        return glob.contains("/") ? fnmatch(glob, relative, FNM_PATHNAME) == 0 : fnmatch(glob, name, 0) == 0
    }
}
