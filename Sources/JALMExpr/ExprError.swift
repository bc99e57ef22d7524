import JALMWire

/// Where in an expression's source something is: 1-based line and column (in Unicode scalars), and the
/// 0-based UTF-8 byte offset, as editors and `cut -b` count.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// The position of byte `offset` in `source`.
    static func locate(_ offset: Int, in source: [UInt8]) -> SourcePosition {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, source.count)
        while i < end {
            if source[i] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if source[i] & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourcePosition(line: line, column: column, offset: offset)
    }

    public var description: String { "line \(line), column \(column) (offset \(offset))" }
}

/// Why an expression could not be parsed or evaluated.
///
/// `code` is `invalid_input` for syntax and type errors (the same expression over the same data fails the
/// same way) and `resource_exhausted` when a budget ran out; `limit` then names the budget.
public struct ExprError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    /// What went wrong, without the position.
    public var reason: String
    /// Where, when the fault has a place in the source (always for parse errors).
    public var position: SourcePosition?
    /// The budget that ran out (`max_steps`, `max_memory_bytes`, `max_source_bytes`, `max_depth`).
    public var limit: String?

    public init(_ code: ErrorCode, _ reason: String, position: SourcePosition? = nil, limit: String? = nil) {
        self.code = code
        self.reason = reason
        self.position = position
        self.limit = limit
    }

    /// The reason followed by its position, e.g. `expected ")" at line 1, column 9 (offset 8)`.
    public var message: String {
        guard let position else { return reason }
        return "\(reason) at \(position)"
    }

    public var description: String { message }

    /// The error as JSON details: position and limit when known.
    public var details: JSONValue {
        var o: [String: JSONValue] = [:]
        if let position {
            o["line"] = .int(Int64(position.line))
            o["column"] = .int(Int64(position.column))
            o["offset"] = .int(Int64(position.offset))
        }
        if let limit { o["limit"] = .string(limit) }
        return .object(o)
    }
}
