#if canImport(Glibc)
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `read {path, encoding, max_bytes}` → `{content, encoding, size}`.
    func readFile(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "read", value, allowed: ["path", "encoding", "max_bytes"])
        let path = try input.path("path")
        let encoding = try input.encoding()
        let maxBytes = try input.maxBytes()
        // O_NONBLOCK: opening a FIFO must not hang the call; it is refused below as not a regular file.
        let fd = try openBeneath(path.text, O_RDONLY | O_NONBLOCK | O_NOCTTY, action: "read")
        defer { close(fd) }
        let st: stat
        switch FileIO.fileStatus(fd) {
        case .success(let s): st = s
        case .failure(let e): throw Errno.failure(e.value, "read", path.text)
        }
        let type = EntryType(mode: st.st_mode)
        guard type == .file else {
            throw CallFailure(.invalidInput, "cannot read \"\(path.text)\": it is a \(type.rawValue), not a file",
                              details: ["path": .string(path.text)])
        }
        guard Int(st.st_size) <= maxBytes else { throw tooLarge(path.text, size: Int64(st.st_size), maxBytes) }
        let bytes: [UInt8]
        switch FileIO.readAll(fd, limit: maxBytes, sizeHint: Int(st.st_size)) {
        case .success(let b?): bytes = b
        case .success(nil): throw tooLarge(path.text, size: nil, maxBytes)  // grew while being read
        case .failure(let e): throw Errno.failure(e.value, "read", path.text)
        }
        return [
            "content": .string(try encoding.content(of: bytes, path: path.text)),
            "encoding": .string(encoding.rawValue),
            "size": .int(Int64(bytes.count)),
        ]
    }

    private func tooLarge(_ path: String, size: Int64?, _ limit: Int) -> CallFailure {
        let sizeText = size.map { "\($0) bytes" } ?? "more than \(limit) bytes"
        var details: [String: JSONValue] = ["path": .string(path), "max_bytes": .int(Int64(limit))]
        if let size { details["size"] = .int(size) }
        return CallFailure(.resourceExhausted,
                           "cannot read \"\(path)\": it is \(sizeText), over the max_bytes limit of \(limit) bytes",
                           retryable: false, details: .object(details))
    }
}
