import Synchronization

/// Compiled `pattern`s, shared by every validation: a card's patterns are compiled once, at catalog load.
final class SchemaRegexCache: Sendable {
    static let shared = SchemaRegexCache()

    /// `Regex` is not `Sendable`; each one is only used for matching, which does not mutate it.
    private struct Entry: @unchecked Sendable {
        var regex: Regex<AnyRegexOutput>
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The compiled pattern, or nil when it is not a valid regular expression.
    func regex(_ pattern: String) -> Regex<AnyRegexOutput>? {
        if let hit = entries.withLock({ $0[pattern] }) { return hit.regex }
        guard let compiled = try? Regex(pattern) else { return nil }
        entries.withLock { $0[pattern] = Entry(regex: compiled) }
        return compiled
    }

    /// Whether `text` contains a match: JSON Schema patterns are not anchored.
    func matches(_ pattern: String, _ text: String) -> Bool? {
        guard let regex = regex(pattern) else { return nil }
        return text.contains(regex)
    }
}
