import JALMCore
import JALMWire

/// `foreach: {items_from: {step: ID, page: N, key: COLUMN}}`: a foreach over the pages of an earlier read
/// step, fetched one call at a time, so that a table or a file of any length is walked in bounded memory.
/// Each iteration's item is one page: the list of its rows.
///
/// The source step runs at its place as the first page (`page` rows at most); the foreach then calls the
/// same op again for each next page, with the paging inputs below set by the engine, until a page comes
/// back with fewer than `page` rows.
public struct PageSource: Sendable, Hashable {
    /// The id of the source step: an `io-db.query` or `io-file.csv.read` step before the foreach.
    public var step: String
    /// Rows per page.
    public var page: Int
    /// `io-db.query`: the column whose value in a page's last row is the next page's `:after`.
    public var key: String
    /// Where `items_from` is.
    public var pointer: JSONPointer

    public static let defaultKey = "id"
    public static let maxPage = 10_000

    public init(step: String, page: Int, key: String = PageSource.defaultKey, pointer: JSONPointer) {
        self.step = step
        self.page = page
        self.key = key
        self.pointer = pointer
    }

    /// How an op is paged: which inputs the engine sets and where the next page starts.
    public enum Kind: Sendable, Hashable {
        /// `io-db.query` with keyset paging: the SQL reads `:after` and `:limit`; the engine sets
        /// `params.limit` to the page size and `params.after` to the key of the last row so far (the first
        /// page uses the `after` the step gives).
        case keyset
        /// `io-file.csv.read`: the engine sets `limit` to the page size and `offset` to the `next_offset` of
        /// the page before (0 for the first).
        case offset
    }

    /// The ops a foreach can page through.
    public static let protocols: [String: Kind] = ["io-db.query": .keyset, "io-file.csv.read": .offset]

    static let keys: Set<String> = ["step", "page", "key"]

    /// `{step, page, key?}`.
    static func parse(_ value: JSONValue, at pointer: JSONPointer) throws(RunnerError) -> PageSource {
        guard case .object(let object) = value else {
            throw invalid("items_from must be {step: ID, page: N}, got \(value.typeName)", at: pointer)
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw invalid("unknown items_from key \"\(key)\"; items_from has key, page, step", at: pointer.appending(key))
        }
        guard case .string(let step)? = object["step"], StepParser.isValidID(step) else {
            throw invalid("items_from needs step: the id of an io-db.query or io-file.csv.read step before this one",
                          at: pointer.appending("step"))
        }
        guard let page = object["page"]?.intValue, page >= 1, page <= Int64(maxPage) else {
            throw invalid("page must be a whole number of rows from 1 to \(maxPage)", at: pointer.appending("page"))
        }
        var source = PageSource(step: step, page: Int(page), pointer: pointer)
        if let value = object["key"] {
            guard case .string(let key) = value, !key.isEmpty else {
                throw invalid("key must be the name of a column of the rows", at: pointer.appending("key"))
            }
            source.key = key
        }
        return source
    }
}
