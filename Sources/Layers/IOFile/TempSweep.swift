#if canImport(Glibc)
import Glibc
#endif

/// At start, removes the temp files (`.jalm-tmp-*`) that atomic writes of a dead process left behind: a
/// `kill -9` between creating the temp and renaming it leaves the target untouched but the temp on disk.
/// A writer holds an flock on its temp for as long as it exists, so a temp this sweep can lock has no
/// writer left, and one another process of the pool is still writing is skipped. The walk is bounded
/// (depth 16, `max_list_scan` entries), never follows a symlink, and is best effort: a failure only
/// leaves a temp file, which `list` does not show anyway.
struct TempSweep {
    let handler: IOFileHandler
    static let maxDepth = 16
    private var budget: Int

    init(handler: IOFileHandler) {
        self.handler = handler
        self.budget = handler.settings.maxListScan
    }

    mutating func run() {
        let fd = handler.openat2Beneath(handler.rootFD, ".", O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        sweep(fd, depth: 0)
    }

    /// Sweeps the directory open as `fd`, and closes it.
    private mutating func sweep(_ fd: Int32, depth: Int) {
        guard let dir = fdopendir(fd) else {
            close(fd)
            return
        }
        defer { closedir(dir) }
        let dfd = dirfd(dir)
        for case .success(let name) in DirectoryEntries(dir) {
            budget -= 1
            if budget < 0 { return }
            var st = stat()
            guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch EntryType(mode: st.st_mode) {
            case .file where name.hasPrefix(IOFileLimits.tempPrefix):
                let temp = handler.openat2Beneath(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
                guard temp >= 0 else { continue }
                if flock(temp, LOCK_EX | LOCK_NB) == 0 { unlinkat(dfd, name, 0) }
                close(temp)
            case .dir where depth < Self.maxDepth:
                let child = handler.openat2Beneath(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                if child >= 0 { sweep(child, depth: depth + 1) }
            default:
                continue
            }
        }
    }
}
