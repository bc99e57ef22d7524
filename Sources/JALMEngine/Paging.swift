import JALMCapsule
import JALMCore
import JALMWire

/// How a paged foreach's source step and its fetch are called: the inputs the engine sets on each page,
/// and where the next page starts (its cursor), read from a page's output.
public struct Paging: Sendable, Hashable {
    public var kind: PageSource.Kind
    /// Rows per page.
    public var page: Int
    /// The column whose value in a page's last row is the keyset cursor.
    public var key: String
    /// The foreach that pages.
    public var loop: Int

    /// A fetch step's id: the foreach's, with this after it (no step id holds a colon).
    static let fetchSuffix = ":page"

    /// The inputs set on a call, merged into its rendered input: the first page's (`cursor` nil) keeps the
    /// source step's own `after` or `offset`; a later page starts at the cursor.
    func patch(cursor: JSONValue?) -> JSONValue {
        switch kind {
        case .keyset:
            var params: [String: JSONValue] = ["limit": .int(Int64(page))]
            if let cursor { params["after"] = cursor }
            return ["params": .object(params)]
        case .offset:
            var o: [String: JSONValue] = ["limit": .int(Int64(page))]
            if let cursor { o["offset"] = cursor }
            return .object(o)
        }
    }

    /// What one page gives: its rows, where the next page starts (nil: it cannot be told), and whether it
    /// was the last.
    func read(_ output: JSONValue) -> (rows: [JSONValue], cursor: JSONValue?, last: Bool) {
        let rows = output["rows"]?.arrayValue ?? []
        switch kind {
        case .keyset:
            let cursor = rows.last.flatMap { $0[key] }.flatMap { $0 == .null ? nil : $0 }
            return (rows, cursor, rows.count < page)
        case .offset:
            let more = output["more"]?.boolValue ?? (rows.count >= page)
            return (rows, output["next_offset"], rows.count < page || !more)
        }
    }
}

extension JSONValue {
    /// `patch` merged into this value: objects key by key, anything else replaced (RFC 7386 without deletes).
    func merging(_ patch: JSONValue) -> JSONValue {
        guard case .object(var base) = self, case .object(let changes) = patch else { return patch }
        for (k, v) in changes { base[k] = base[k].map { $0.merging(v) } ?? v }
        return .object(base)
    }
}
