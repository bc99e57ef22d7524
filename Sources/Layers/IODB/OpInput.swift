import JALMWire

/// One op's input object: unknown keys are refused up front, and each getter names the field it checks.
struct OpInput {
    let op: String
    let fields: [String: JSONValue]
    /// Where this object sits in the step input, for error pointers (`/statements/2`).
    let pointer: String

    static let maxSQLBytes = 1024 * 1024
    static let maxStatements = 1000

    init(op: String, _ input: JSONValue, allowed: Set<String>, pointer: String = "") throws(CallFailure) {
        guard let fields = input.objectValue else {
            throw CallFailure(.invalidInput, "io-db.\(op): input must be an object, not \(input.typeName)",
                              details: ["pointer": .string(pointer)])
        }
        if let unknown = fields.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw CallFailure(
                .invalidInput,
                "io-db.\(op): unknown key \"\(unknown)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                details: ["pointer": .string(pointer + "/" + unknown)])
        }
        self.op = op
        self.fields = fields
        self.pointer = pointer
    }

    func invalid(_ key: String, _ message: String) -> CallFailure {
        CallFailure(.invalidInput, "io-db.\(op): \"\(key)\" \(message)", details: ["pointer": .string(pointer + "/" + key)])
    }

    func string(_ key: String, default fallback: String? = nil) throws(CallFailure) -> String {
        guard let value = fields[key], !value.isNull else {
            if let fallback { return fallback }
            throw invalid(key, "is required")
        }
        guard let s = value.stringValue else { throw invalid(key, "must be a string, not \(value.typeName)") }
        return s
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(CallFailure) -> Int {
        guard let value = fields[key], !value.isNull else { return fallback }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
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
