#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMLayerKit
import JALMWire

/// Where a `wasm` step's module comes from: a file beneath `<data>/wasm`, or base64 in the capsule.
enum WasmModuleSource {
    /// The module's bytes, at most `limit`; every refusal is a `CallFailure` naming the field.
    static func bytes(_ input: [String: JSONValue], wasmRoot: String, limit: Int) throws(CallFailure) -> [UInt8] {
        switch (input["path"], input["module_base64"]) {
        case (.string(let path)?, nil):
            return try readFile(path, root: wasmRoot, limit: limit)
        case (nil, .string(let text)?):
            // 4 characters of base64 hold 3 bytes: refuse an oversize module before decoding it.
            guard text.utf8.count / 4 * 3 <= limit + 3 else { throw tooLarge(limit, field: "module_base64") }
            guard let bytes = Base64.decode(text) else {
                throw CallFailure(.invalidInput, "module_base64 is not valid base64", details: ["field": "module_base64"])
            }
            guard bytes.count <= limit else { throw tooLarge(limit, field: "module_base64") }
            return bytes
        case (nil, nil):
            throw CallFailure(.invalidInput, "give the module as path (beneath <data>/wasm) or module_base64",
                              details: ["field": "path"])
        default:
            throw CallFailure(.invalidInput, "give exactly one of path and module_base64, each a string",
                              details: ["field": "path"])
        }
    }

    /// Why `path` can never name a module beneath the root, or nil. The resolution itself is
    /// `openat2(RESOLVE_BENEATH)`, which also stops symlinks that lead out.
    static func problem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.utf8.contains(0) { return "contains a NUL byte" }
        if path.utf8.count > 4096 { return "is longer than 4096 bytes" }
        if path.hasPrefix("/") { return "is absolute; give it relative to <data>/wasm" }
        if path.split(separator: "/").contains("..") { return "contains \"..\"" }
        return nil
    }

    private static func readFile(_ path: String, root: String, limit: Int) throws(CallFailure) -> [UInt8] {
        if let problem = problem(path) {
            throw CallFailure(.invalidInput, "path \(problem)", details: ["field": "path", "reason": "bad_path"])
        }
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | jalm_o_path())
        guard rootFD >= 0 else {
            throw CallFailure(.notFound, "the module folder \(root) cannot be opened (errno \(errno)); create it "
                + "before jalmd starts", details: ["field": "path"])
        }
        defer { close(rootFD) }
        let fd = jalm_openat2(rootFD, path, O_RDONLY | O_CLOEXEC, 0, jalm_resolve_beneath())
        guard fd >= 0 else {
            let code: ErrorCode = -fd == ENOENT || -fd == ENOTDIR ? .notFound : .invalidInput
            let reason = -fd == EXDEV ? "leads outside <data>/wasm" : "cannot be opened (\(String(cString: jalm_errno_name(-fd))))"
            throw CallFailure(code, "path \"\(path)\" \(reason)", details: ["field": "path"])
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw CallFailure(.invalidInput, "path \"\(path)\" is not a regular file", details: ["field": "path"])
        }
        guard Int(st.st_size) <= limit else { throw tooLarge(limit, field: "path") }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw CallFailure(.internal, "reading \"\(path)\" failed (errno \(errno))") }
            if n == 0 { break }
            filled += n
        }
        guard filled <= limit else { throw tooLarge(limit, field: "path") }
        return Array(bytes[0..<filled])
    }

    private static func tooLarge(_ limit: Int, field: String) -> CallFailure {
        CallFailure(.resourceExhausted, "the module is larger than max_module_bytes (\(limit))",
                    details: ["field": .string(field), "limit": "max_module_bytes"])
    }
}
