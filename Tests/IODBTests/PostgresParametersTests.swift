@testable import jalm_layer_io_db
import JALMWire
import Testing

/// The `:name` → `$n` rewrite for PostgreSQL: placeholders in code are found, text that only looks like
/// one (in literals, identifiers, comments, dollar quotes, casts) is left alone.
struct PostgresParametersTests {
    func names(_ sql: String) -> [String] { PostgresParameters.scan(sql).named.map(\.name) }

    @Test func namedPlaceholdersAreRewrittenInOrderOfFirstUse() throws {
        let s = Statement(sql: "SELECT * FROM t WHERE a = :a AND b = :b OR a = :a", parameters: .named(["a": .int(1), "b": .text("x")]))
        let (sql, values) = try PostgresParameters.prepare(s)
        #expect(sql == "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1")
        #expect(values == [.int(1), .text("x")])
    }

    @Test func textThatLooksLikeAPlaceholderIsNotOne() {
        #expect(names("SELECT ':a', \":b\", x::int, $$ :c $$, $t$ :d $t$ -- :e\n /* :f /* :g */ */ FROM t") == [])
        #expect(names("SELECT E'\\' :h' , 'it''s :i', arr[1:n] FROM t WHERE x = :real") == ["real"])
        #expect(PostgresParameters.scan("SELECT '$1', a$1, $2").maxPositional == 2)
    }

    @Test func countAndNameMismatchesAreInvalidInput() {
        let cases: [Statement] = [
            Statement(sql: "SELECT $1, $2", parameters: .positional([.int(1)])),
            Statement(sql: "SELECT $1", parameters: .positional([.int(1), .int(2)])),
            Statement(sql: "SELECT :a", parameters: .named([:])),
            Statement(sql: "SELECT :a", parameters: .named(["a": .null, "b": .null])),
            Statement(sql: "SELECT :a", parameters: .positional([.int(1)])),
            Statement(sql: "SELECT $1, :a", parameters: .named(["a": .null])),
        ]
        for s in cases {
            #expect(throws: CallFailure.self, "\(s.sql)") { try PostgresParameters.prepare(s) }
            do { _ = try PostgresParameters.prepare(s) } catch {
                #expect(error.code == .invalidInput && error.details?["reason"] == "parameter_mismatch")
            }
        }
    }
}
