#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import JALMWire

extension IOFileHandler {
    /// `copy {from, to, overwrite, create_dirs, sha256}` → `{from, to, size, sha256?}`. The copy is made
    /// like `write`: a temp file beside the target, fsync, rename, so the target is never seen half copied.
    /// Streams through a 256 KiB buffer (read/write, no copy_file_range: one path, hashable on the way).
    func copyFile(_ value: JSONValue, dryRun: Bool) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "copy", value, allowed: ["from", "to", "overwrite", "create_dirs", "sha256"])
        let from = try input.path("from")
        let to = try input.path("to")
        try requireEntry(to, key: "to", op: "copy")
        let overwrite = try input.bool("overwrite", default: false)
        let createDirs = try input.bool("create_dirs", default: false)
        let wantDigest = try input.bool("sha256", default: false)
        let (source, st) = try openRegularFile(from, action: "copy")
        defer { close(source) }
        let limit = settings.maxStreamBytes
        guard Int(st.st_size) <= limit else { throw overStreamLimit(from, limit, action: "copy") }
        var out: [String: JSONValue] = ["from": .string(from.text), "to": .string(to.text)]
        if dryRun {
            do { try previewReplace(to, createDirs: createDirs, action: "copy to", noReplace: !overwrite) }
            catch where error.code == .conflict { throw targetExists(from, to) }
            out["size"] = .int(Int64(st.st_size))
            out["dry_run"] = true
            return .object(out)
        }
        let parent = try openParent(to, create: createDirs, action: "copy to")
        defer { close(parent) }
        var digest = wantDigest ? SHA256() : nil
        var copied = 0
        var overLimit = false
        do {
            try replaceAtomically(parent: parent, path: to, noReplace: !overwrite) { target in
                switch FileIO.stream(source, limit: limit, { chunk in
                    digest?.update(chunk)
                    return FileIO.writeAll(target, chunk)
                }) {
                case .success(let n): copied = n; return nil
                case .failure(.failed(let e)): return e
                case .failure(.overLimit): overLimit = true; return Errno.Code(EFBIG)
                }
            }
        } catch where error.code == .conflict {
            throw targetExists(from, to)
        }
        if overLimit { throw overStreamLimit(from, limit, action: "copy") }
        out["size"] = .int(Int64(copied))
        if var d = digest { out["sha256"] = .string(d.finalizeHex()) }
        return .object(out)
    }

    /// `checksum {path, algorithm}` → `{path, size, algorithm, sha256}`, streamed (the file is never held whole).
    func checksumFile(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "checksum", value, allowed: ["path", "algorithm"])
        let path = try input.path("path")
        guard try input.string("algorithm", default: "sha256") == "sha256" else {
            throw input.invalid("algorithm", "must be \"sha256\" (the only algorithm io-file offers)")
        }
        let (fd, st) = try openRegularFile(path, action: "checksum")
        defer { close(fd) }
        let limit = settings.maxStreamBytes
        guard Int(st.st_size) <= limit else { throw overStreamLimit(path, limit, action: "checksum") }
        var digest = SHA256()
        switch FileIO.stream(fd, limit: limit, { chunk in digest.update(chunk); return nil }) {
        case .success(let n):
            return ["path": .string(path.text), "size": .int(Int64(n)), "algorithm": "sha256",
                    "sha256": .string(digest.finalizeHex())]
        case .failure(.failed(let e)): throw Errno.failure(e.value, "checksum", path.text)
        case .failure(.overLimit): throw overStreamLimit(path, limit, action: "checksum")
        }
    }

    private func overStreamLimit(_ path: RelativePath, _ limit: Int, action: String) -> CallFailure {
        CallFailure(.resourceExhausted,
                    "cannot \(action) \"\(path.text)\": it is over \(limit) bytes (layers.io-file.max_stream_bytes)",
                    retryable: false, details: ["path": .string(path.text), "max_bytes": .int(Int64(limit))])
    }

    private func targetExists(_ from: RelativePath, _ to: RelativePath) -> CallFailure {
        CallFailure(.conflict, "cannot copy \"\(from.text)\" to \"\(to.text)\": the target exists; set overwrite: true",
                    details: ["from": .string(from.text), "to": .string(to.text)])
    }
}
