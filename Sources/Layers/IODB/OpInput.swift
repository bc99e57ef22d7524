import JALMLayerKit
import JALMWire

/// io-db's getters on top of LayerKit's `OpInput`.
extension OpInput {
    static let maxSQLBytes = 1024 * 1024
    static let maxStatements = 1000

    init(op: String, _ input: JSONValue, allowed: Set<String>, pointer: String = "") throws(CallFailure) {
        try self.init(layer: "io-db", op: op, input, allowed: allowed, pointer: pointer)
    }

    /// `sql` and `params` as one statement.
    func statement() throws(CallFailure) -> Statement {
        let sql = try string("sql")
        guard !sql.trimmingWhitespace.isEmpty else { throw invalid("sql", "is empty") }
        guard sql.utf8.count <= Self.maxSQLBytes else { throw invalid("sql", "is longer than \(Self.maxSQLBytes) bytes") }
        guard !sql.utf8.contains(0) else { throw invalid("sql", "contains a NUL byte") }
        switch fields["params"] ?? .null {
        case .null: return Statement(sql: sql, parameters: .positional([]))
        case .array(let values):
            var bound: [BindValue] = []
            for v in values { bound.append(try BindValue(v)) }
            return Statement(sql: sql, parameters: .positional(bound))
        case .object(let byName):
            var bound: [String: BindValue] = [:]
            for (k, v) in byName { bound[k] = try BindValue(v) }
            return Statement(sql: sql, parameters: .named(bound))
        case let other:
            throw invalid("params", "must be an array (for ?, $1) or an object (for :name), not \(other.typeName)")
        }
    }

    func limits() throws(CallFailure) -> RowLimits {
        RowLimits(maxRows: try int("max_rows", default: RowLimits.defaultMaxRows, in: 0...RowLimits.maxMaxRows),
                  maxBytes: try int("max_bytes", default: RowLimits.defaultMaxBytes, in: 2...RowLimits.maxMaxBytes))
    }
}
