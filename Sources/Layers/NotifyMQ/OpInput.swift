import JALMLayerKit
import JALMWire

/// notify-mq's getters on top of LayerKit's `OpInput`.
extension OpInput {
    init(op: String, _ input: JSONValue, allowed: Set<String>) throws(CallFailure) {
        try self.init(layer: "notify-mq", op: op, input, allowed: allowed)
    }

    /// A string that ends up in a protocol line or header: CR, LF and NUL would let it start a new one.
    func headerSafe(_ key: String, _ text: String) throws(CallFailure) -> String {
        if let bad = HeaderText.forbiddenCharacter(in: text) {
            throw invalid(key, "contains \(bad), which could inject a new header or command line",
                          reason: "header_injection")
        }
        return text
    }
}

/// The check every op applies to text placed in a protocol header or command line.
enum HeaderText {
    /// The name of the first CR, LF or NUL in `text`, or nil when it has none.
    static func forbiddenCharacter(in text: String) -> String? {
        for b in text.utf8 {
            switch b {
            case 0x0D: return "a carriage return (CR)"
            case 0x0A: return "a line feed (LF)"
            case 0x00: return "a NUL byte"
            default: continue
            }
        }
        return nil
    }
}
