import JALMWire

/// How `content` carries file bytes in JSON.
enum ContentEncoding: String {
    /// UTF-8 text, as the JSON string itself.
    case text
    /// Any bytes, as standard base64 with padding.
    case base64

    /// The bytes `content` stands for.
    func bytes(of content: String, op: String) throws(CallFailure) -> [UInt8] {
        switch self {
        case .text:
            return Array(content.utf8)
        case .base64:
            guard let bytes = Base64.decode(content) else {
                throw CallFailure(.invalidInput, "io-file.\(op): \"content\" is not valid base64",
                                  details: ["pointer": "/content"])
            }
            return bytes
        }
    }

    /// `bytes` as `content`; text that is not UTF-8 is refused rather than mangled.
    func content(of bytes: [UInt8], path: String) throws(CallFailure) -> String {
        switch self {
        case .text:
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw CallFailure(
                    .invalidInput,
                    "cannot read \"\(path)\" as text: it is not valid UTF-8; use encoding \"base64\"",
                    details: ["path": .string(path), "pointer": "/encoding"])
            }
            return s
        case .base64:
            return Base64.encode(bytes)
        }
    }
}
