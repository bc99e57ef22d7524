#if canImport(Glibc)
import JALMLayerKit
import Glibc
#endif
import CPosix
import JALMWire

extension IOFileHandler {
    /// `read {path, encoding, max_bytes, sha256}` → `{content, encoding, size, sha256?}`.
    func readFile(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "read", value, allowed: ["path", "encoding", "max_bytes", "sha256"])
        let path = try input.path("path")
        let encoding = try input.encoding()
        let maxBytes = try input.maxBytes(setting: "max_read_bytes", settings.maxReadBytes)
        let wantDigest = try input.bool("sha256", default: false)
        let bytes = try readWhole(path, maxBytes: maxBytes, action: "read")
        var out: [String: JSONValue] = [
            "content": .string(try encoding.content(of: bytes, path: path.text)),
            "encoding": .string(encoding.rawValue),
            "size": .int(Int64(bytes.count)),
        ]
        if wantDigest { out["sha256"] = .string(SHA256.hex(bytes)) }
        return .object(out)
    }

    /// The bytes of the regular file at `path`, at most `maxBytes` of them (`resource_exhausted` beyond).
    func readWhole(_ path: RelativePath, maxBytes: Int, action: String) throws(CallFailure) -> [UInt8] {
        let (fd, st) = try openRegularFile(path, action: action)
        defer { close(fd) }
        guard Int(st.st_size) <= maxBytes else { throw tooLarge(path.text, size: Int64(st.st_size), maxBytes, action) }
        switch FileIO.readAll(fd, limit: maxBytes, sizeHint: Int(st.st_size)) {
        case .success(let b?): return b
        case .success(nil): throw tooLarge(path.text, size: nil, maxBytes, action)  // grew while being read
        case .failure(let e): throw Errno.failure(e.value, action, path.text)
        }
    }

    private func tooLarge(_ path: String, size: Int64?, _ limit: Int, _ action: String) -> CallFailure {
        let sizeText = size.map { "\($0) bytes" } ?? "more than \(limit) bytes"
        var details: [String: JSONValue] = ["path": .string(path), "max_bytes": .int(Int64(limit))]
        if let size { details["size"] = .int(size) }
        return CallFailure(.resourceExhausted,
                           "cannot \(action) \"\(path)\": it is \(sizeText), over the max_bytes limit of \(limit) bytes",
                           retryable: false, details: .object(details))
    }

    /// `json.read {path, max_bytes}` → `{content, size}`: the file parsed as one JSON document (RFC 8259).
    func readJSON(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "json.read", value, allowed: ["path", "max_bytes"])
        let path = try input.path("path")
        let maxBytes = try input.maxBytes(setting: "max_read_bytes", settings.maxReadBytes)
        let bytes = try readWhole(path, maxBytes: maxBytes, action: "read JSON from")
        let content: JSONValue
        do {
            content = try JSONParser.parse(bytes)
        } catch {
            throw CallFailure(.invalidInput, "cannot read \"\(path.text)\" as JSON: \(error.message) at byte \(error.offset)",
                              details: ["path": .string(path.text), "offset": .int(Int64(error.offset))])
        }
        return ["content": content, "size": .int(Int64(bytes.count))]
    }
}
