#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

/// The template files beneath `<data>/templates`, read-only.
///
/// Every path is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` from the folder's
/// descriptor (as io-file does), so an absolute path, `..` that leaves the folder or a symlink that
/// leads out of it cannot be opened; `..` and absolute paths are also refused by name first, with a
/// clearer message. Landlock grants the plugin nothing but reads of this folder.
final class TemplateStore: @unchecked Sendable {
    let rootPath: String
    /// `O_PATH | O_DIRECTORY` descriptor of the folder, or -1 when it did not exist at start.
    private let rootFD: Int32

    init(root: String) {
        self.rootPath = root
        self.rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | jalm_o_path())
    }

    deinit { if rootFD >= 0 { close(rootFD) } }

    /// Why `path` can never name a template, or nil.
    static func problem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.utf8.contains(0) { return "contains a NUL byte" }
        if path.utf8.count > 4096 { return "is longer than 4096 bytes" }
        if path.hasPrefix("/") { return "must be relative to the templates folder, not absolute" }
        if path.split(separator: "/").contains("..") { return "must not contain \"..\"" }
        return nil
    }

    /// The text of `path`, refused when it holds more than `limit` bytes. `what` names the file in errors.
    func read(_ path: String, limit: Int, what: String) throws(CallFailure) -> String {
        let details: JSONValue = ["path": .string(path)]
        if let problem = Self.problem(path) {
            throw CallFailure(.invalidInput, "\(what) \"\(path)\" \(problem)", details: details)
        }
        guard rootFD >= 0 else {
            throw CallFailure(.notFound, "\(what) \"\(path)\": the templates folder \(rootPath) does not exist",
                              details: details)
        }
        let fd = jalm_openat2(rootFD, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, jalm_resolve_beneath())
        guard fd >= 0 else { throw failure(-fd, what, path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno, what, path) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw CallFailure(.invalidInput, "\(what) \"\(path)\" is not a regular file", details: details)
        }
        guard Int(st.st_size) <= limit else { throw tooLarge(what, path, limit) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errno, what, path)
            }
            if n == 0 { break }
            if bytes.count + n > limit { throw tooLarge(what, path, limit) }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CallFailure(.invalidInput, "\(what) \"\(path)\" is not valid UTF-8", details: details)
        }
        return text
    }

    private func tooLarge(_ what: String, _ path: String, _ limit: Int) -> CallFailure {
        CallFailure(.resourceExhausted,
                    "\(what) \"\(path)\" does not fit in what is left of max_template_bytes (\(limit) bytes)",
                    details: ["path": .string(path), "limit": .int(Int64(limit)), "reason": "max_template_bytes"])
    }

    /// openat2's errno as a failure: EXDEV and ELOOP mean the path tried to leave the folder.
    private func failure(_ code: Int32, _ what: String, _ path: String) -> CallFailure {
        let details: JSONValue = ["path": .string(path), "errno": .int(Int64(code))]
        let text = String(cString: strerror(code))
        switch code {
        case EXDEV, ELOOP:
            return CallFailure(.invalidInput, "\(what) \"\(path)\" leads outside the templates folder", details: details)
        case ENOENT, ENOTDIR:
            return CallFailure(.notFound, "\(what) \"\(path)\" does not exist in the templates folder", details: details)
        case EACCES, EPERM:
            return CallFailure(.sandboxViolation, "\(what) \"\(path)\": \(text)", details: details)
        default:
            return CallFailure(.internal, "\(what) \"\(path)\": \(text)", details: details)
        }
    }
}
