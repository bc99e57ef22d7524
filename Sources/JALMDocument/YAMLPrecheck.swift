import JALMCore
import JALMWire

/// A scan of the raw bytes before Yams sees them. Yams checks mapping keys for duplicates by hashing them
/// whole, so an alias to a large expansion used inside a key makes that hash exponential, long before the
/// node count of `YAMLConverter` could stop it (`yamlAliasInsideAKeyIsRefused`). Keys must be strings
/// anyway, so a key that is, or holds, an alias is refused here.
///
/// Nesting needs no scan: libyaml stops at 1000 levels and the converter at 512
/// (`compactSequencesDeeperThanLibYAMLAllowsAreRefusedWithoutCrashing`).
enum YAMLPrecheck {
    static func check(_ bytes: [UInt8]) throws(RunnerError) {
        var line = 1
        // One entry per open flow collection: whether an alias appears inside it.
        var flowHoldsAlias: [Bool] = []
        for i in bytes.indices {
            switch bytes[i] {
            case 0x0A:
                line += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flowHoldsAlias.append(false)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if flowHoldsAlias.popLast() == true, colonFollows(bytes, after: i + 1) {
                    throw fail(line, "a mapping key may not hold an alias; keys must be strings")
                }
            case UInt8(ascii: "?"):
                if isBlank(at: i + 1, in: bytes), startsLineOrEntry(bytes, i) {
                    throw fail(line, "explicit \"? \" mapping keys are not supported; keys must be strings")
                }
            case UInt8(ascii: "*"):
                guard isTokenStart(bytes, i), let end = aliasEnd(bytes, from: i + 1) else { continue }
                if colonFollows(bytes, after: end) { throw fail(line, "an alias may not be a mapping key") }
                for j in flowHoldsAlias.indices { flowHoldsAlias[j] = true }
            default:
                continue
            }
        }
    }

    private static func fail(_ line: Int, _ message: String) -> RunnerError {
        YAMLDocument.invalid("line \(line): \(message)")
    }

    private static func isBlank(at i: Int, in bytes: [UInt8]) -> Bool {
        i >= bytes.count || [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i])
    }

    private static func isTokenStart(_ bytes: [UInt8], _ i: Int) -> Bool {
        i == 0 || [0x20, 0x0A, 0x0D, 0x09, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ",")].contains(bytes[i - 1])
    }

    /// Whether only indentation, or a `- ` entry indicator, stands before `i` on its line: where a `? ` key
    /// can start (a `?` later in a line is plain text).
    private static func startsLineOrEntry(_ bytes: [UInt8], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0, bytes[j] == 0x20 || bytes[j] == UInt8(ascii: "-") { j -= 1 }
        return j < 0 || bytes[j] == 0x0A
    }

    /// The index after an alias name (libyaml's anchor characters: letters, digits, `-`, `_`), or nil when
    /// no name follows the `*`.
    private static func aliasEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < bytes.count, isAnchorByte(bytes[i]) { i += 1 }
        return i > start ? i : nil
    }

    private static func isAnchorByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x2D || b == 0x5F || b >= 0x80
    }

    private static func colonFollows(_ bytes: [UInt8], after start: Int) -> Bool {
        var i = start
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        return i < bytes.count && bytes[i] == UInt8(ascii: ":")
    }
}
