#if canImport(Glibc)
import Glibc
#endif
import JALMWire

/// Maps errno values to the closed set of error codes, naming the path in every message.
enum Errno {
    /// strerror(3) text.
    static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The failure for `code` returned while doing `action` on `path`.
    /// `resolving` is true when the code came from `openat2`, where EXDEV and ELOOP mean the path
    /// tried to leave the root (openat2(2): RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS).
    static func failure(_ code: Int32, _ action: String, _ path: String, resolving: Bool = false) -> CallFailure {
        let details: JSONValue = ["path": .string(path), "errno": .int(Int64(code))]
        let what = "cannot \(action) \"\(path)\""
        if resolving && (code == EXDEV || code == ELOOP) {
            return CallFailure(.invalidInput, "\(what): path escapes the data root", details: details)
        }
        let errorCode: ErrorCode
        switch code {
        case ENOENT: errorCode = .notFound
        case EEXIST, ENOTEMPTY, EBUSY: errorCode = .conflict
        case EACCES, EPERM, EROFS: errorCode = .sandboxViolation
        case ENOSPC, EDQUOT, EFBIG, EMFILE, ENFILE, ENOMEM: errorCode = .resourceExhausted
        case ENOTDIR, EISDIR, ENAMETOOLONG, EINVAL, ENXIO, ELOOP: errorCode = .invalidInput
        default: errorCode = .internal
        }
        return CallFailure(errorCode, "\(what): \(text(code))", details: details)
    }
}
