/// The input of `csv.read`, checked.
struct CSVReadRequest {
    var path: RelativePath
    /// The first row names the columns.
    var header: Bool
    var delimiter: UInt8
    /// More data rows than this in one call is `resource_exhausted`.
    var maxRows: Int
    /// Without paging, the largest file read; with it, the most bytes one call reads (header row and page).
    var maxBytes: Int
    /// Where the page starts: 0 or a `next_offset` returned before (a record boundary).
    var offset: Int?
    /// The page's rows at most; more remaining is not an error.
    var limit: Int?

    /// Whether this call reads one page (and answers `next_offset` and `more`).
    var isPaged: Bool { offset != nil || limit != nil }
}
