#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `delete {path, recursive}` → `{deleted: true}`; a symlink is removed, never its target.
    /// A dry run checks the entry exists and, for a non-empty directory, that `recursive` is set.
    func deleteEntry(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "delete", value, allowed: ["path", "recursive"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "delete")
        let recursive = try input.bool("recursive", default: false)
        let parent = try openParent(path, action: "delete")
        defer { close(parent) }
        var st = Glibc.stat()
        guard fstatat(parent, path.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw Errno.failure(errno, "delete", path.text)
        }
        if dryRun {
            if EntryType(mode: st.st_mode) == .dir && !recursive {
                guard try isEmptyDirectory(parent, path) else { throw notEmpty(path) }
            }
            return ["deleted": true, "dry_run": true]
        }
        guard EntryType(mode: st.st_mode) == .dir else {
            guard unlinkat(parent, path.name, 0) == 0 else { throw Errno.failure(errno, "delete", path.text) }
            return ["deleted": true]
        }
        if unlinkat(parent, path.name, AT_REMOVEDIR) == 0 { return ["deleted": true] }
        let code = errno
        guard code == ENOTEMPTY || code == EEXIST else { throw Errno.failure(code, "delete", path.text) }
        guard recursive else { throw notEmpty(path) }
        try removeTree(in: parent, path.name, shown: path.text, depth: 0)
        return ["deleted": true]
    }

    private func notEmpty(_ path: RelativePath) -> CallFailure {
        CallFailure(.conflict, "cannot delete \"\(path.text)\": the directory is not empty; set recursive: true",
                    details: ["path": .string(path.text)])
    }

    private func isEmptyDirectory(_ parent: Int32, _ path: RelativePath) throws(CallFailure) -> Bool {
        let fd = openat2Beneath(parent, path.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard fd >= 0 else { throw Errno.failure(-fd, "delete", path.text, resolving: true) }
        guard let dir = fdopendir(fd) else {
            close(fd)
            return false
        }
        defer { closedir(dir) }
        var entries = DirectoryEntries(dir)
        return entries.next() == nil
    }

    /// Removes directory `name` in `parent` and everything under it, never following a symlink.
    private func removeTree(in parent: Int32, _ name: String, shown: String, depth: Int) throws(CallFailure) {
        guard depth < IOFileLimits.maxDeleteDepth else {
            throw CallFailure(.resourceExhausted,
                              "cannot delete \"\(shown)\": nested deeper than \(IOFileLimits.maxDeleteDepth) directories",
                              retryable: false, details: ["path": .string(shown)])
        }
        // O_NOFOLLOW: a directory swapped for a symlink since the fstatat is refused, not descended.
        let fd = openat2Beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard fd >= 0 else { throw Errno.failure(-fd, "delete", shown, resolving: true) }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw Errno.failure(code, "delete", shown)
        }
        defer { closedir(dir) }
        var names: [String] = []
        for result in DirectoryEntries(dir) {
            switch result {
            case .success(let n): names.append(n)
            case .failure(let e): throw Errno.failure(e.value, "delete", shown)
            }
        }
        let dfd = dirfd(dir)
        for child in names {
            var st = Glibc.stat()
            guard fstatat(dfd, child, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { continue }
                throw Errno.failure(errno, "delete", shown + "/" + child)
            }
            if EntryType(mode: st.st_mode) == .dir {
                try removeTree(in: dfd, child, shown: shown + "/" + child, depth: depth + 1)
            } else if unlinkat(dfd, child, 0) != 0 && errno != ENOENT {
                throw Errno.failure(errno, "delete", shown + "/" + child)
            }
        }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { throw Errno.failure(errno, "delete", shown) }
    }

    /// `move {from, to, overwrite}` → `{from, to}`; without overwrite an existing target is a conflict
    /// decided by the kernel (RENAME_NOREPLACE), not by a racy check.
    /// A dry run checks the source exists and, without overwrite, that the target does not.
    func moveEntry(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "move", value, allowed: ["from", "to", "overwrite"])
        let from = try input.path("from")
        let to = try input.path("to")
        try requireEntry(from, key: "from", op: "move")
        try requireEntry(to, key: "to", op: "move")
        let overwrite = try input.bool("overwrite", default: false)
        let source = try openParent(from, action: "move")
        defer { close(source) }
        let target = try openParent(to, action: "move to")
        defer { close(target) }
        if dryRun {
            var st = Glibc.stat()
            guard fstatat(source, from.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw Errno.failure(errno, "move", from.text) }
            if !overwrite && fstatat(target, to.name, &st, AT_SYMLINK_NOFOLLOW) == 0 { throw moveConflict(from, to) }
            return ["from": .string(from.text), "to": .string(to.text), "dry_run": true]
        }
        let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, renameat2(2)
        let r = jalm_renameat2(source, from.name, target, to.name, overwrite ? 0 : renameNoReplace)
        if r == -EEXIST { throw moveConflict(from, to) }
        guard r == 0 else {
            // ENOENT concerns the source (the target's parent was opened above); the rest names both.
            let shown = r == -ENOENT ? from.text : "\(from.text)\" to \"\(to.text)"
            throw Errno.failure(-r, "move", shown)
        }
        return ["from": .string(from.text), "to": .string(to.text)]
    }

    private func moveConflict(_ from: RelativePath, _ to: RelativePath) -> CallFailure {
        CallFailure(.conflict, "cannot move \"\(from.text)\" to \"\(to.text)\": the target exists; set overwrite: true",
                    details: ["from": .string(from.text), "to": .string(to.text)])
    }

    /// `mkdir {path, parents}` → `{path, created}`; an existing directory is not an error.
    /// A dry run reports whether the directory would be created, creating nothing.
    func makeDirectory(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "mkdir", value, allowed: ["path", "parents"])
        let path = try input.path("path")
        try requireEntry(path, key: "path", op: "mkdir")
        let parents = try input.bool("parents", default: true)
        if dryRun { return try previewMakeDirectory(path, parents: parents) }
        let parent = try openParent(path, create: parents, action: "create directory")
        defer { close(parent) }
        if mkdirat(parent, path.name, 0o755) == 0 {
            try syncDirectory(parent, path: path.text, action: "create directory")
            return ["path": .string(path.text), "created": true]
        }
        let code = errno
        guard code == EEXIST else { throw Errno.failure(code, "create directory", path.text) }
        // Something exists: fine if it is (or a symlink inside the root leads to) a directory.
        let existing = openat2Beneath(rootFD, path.text, O_DIRECTORY | jalm_o_path())
        if existing >= 0 {
            close(existing)
            return ["path": .string(path.text), "created": false]
        }
        if existing == -ENOTDIR || existing == -ENOENT {
            throw CallFailure(.conflict, "cannot create directory \"\(path.text)\": a non-directory entry exists there",
                              details: ["path": .string(path.text)])
        }
        throw Errno.failure(-existing, "create directory", path.text, resolving: true)
    }

    private func previewMakeDirectory(_ path: RelativePath, parents: Bool) throws(CallFailure) -> JSONValue {
        let existing = openat2Beneath(rootFD, path.text, O_DIRECTORY | jalm_o_path())
        if existing >= 0 {
            close(existing)
            return ["path": .string(path.text), "created": false, "dry_run": true]
        }
        if existing != -ENOENT { throw Errno.failure(-existing, "create directory", path.text, resolving: true) }
        do {
            close(try openParent(path, action: "create directory"))
        } catch where error.code == .notFound && parents {}
        return ["path": .string(path.text), "created": true, "dry_run": true]
    }
}
