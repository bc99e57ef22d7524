import JALMExpr
import JALMWire
import Testing

@Suite struct ExprParseErrorTests {
    /// Malformed source → the message's start, and the 1-based line and column and 0-based byte offset of
    /// the fault.
    static let cases: [(String, String, Int, Int, Int)] = [
        ("", "the expression ends where a value was expected", 1, 1, 0),
        ("$.total >", "the expression ends where a value was expected", 1, 10, 9),
        ("$.a +* 2", "expected a value, found \"*\"", 1, 6, 5),
        ("(1 + 2", "expected \")\" to close the parenthesis at offset 0", 1, 7, 6),
        ("[1, 2", "expected \"]\" to close the array", 1, 6, 5),
        ("$.", "expected a key name after \".\"", 1, 3, 2),
        ("'abc", "unterminated string", 1, 1, 0),
        ("'a\\qb'", "unknown escape \\q", 1, 3, 2),
        ("1 2", "unexpected 2 after a complete expression", 1, 3, 2),
        ("$.a # b", "unexpected character \"#\"", 1, 5, 4),
        ("12abc", "a number cannot be followed by \"a\"", 1, 3, 2),
        ("city == 'x'", "unknown name \"city\"", 1, 1, 0),
        ("frobnicate($.a)", "unknown function \"frobnicate\"", 1, 1, 0),
        ("len(1, 2)", "len takes 1 argument, got 2", 1, 1, 0),
        ("replace('a')", "replace takes 3 arguments, got 1", 1, 1, 0),
        ("map($.items, 2)", "argument 2 of map must be a lambda", 1, 14, 13),
        ("len(x => x)", "len takes no lambda as argument 1", 1, 5, 4),
        ("x => x", "a lambda (x => ...) may only be an argument", 1, 1, 0),
        ("1 < 2 < 3", "comparisons do not chain", 1, 7, 6),
        ("a == b", "unknown name \"a\"", 1, 1, 0),
        ("{1: 2}", "expected a key (a name or a string)", 1, 2, 1),
        ("$.total > 1 &&\n  $.paid ==", "the expression ends where a value was expected", 2, 12, 26),
        ("$.city ==\n\n  'Ly\non'", "a control character must be escaped in a string", 3, 6, 16),
        ("'é' ! 'x'", "unexpected \"!\" after a complete expression", 1, 5, 5),
        ("map($.a, true => 1)", "a lambda parameter must be a name that is not a keyword", 1, 10, 9),
    ]

    @Test(arguments: cases) func reportsPosition(_ source: String, _ message: String, _ line: Int, _ column: Int, _ offset: Int) {
        do {
            _ = try Expression(parsing: source)
            Issue.record("\(source.debugDescription) parsed")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.reason.hasPrefix(message), "\(source.debugDescription): \(error.reason)")
            #expect(error.position == SourcePosition(line: line, column: column, offset: offset),
                    "\(source.debugDescription): \(error.message)")
            #expect(error.message.hasSuffix("at line \(line), column \(column) (offset \(offset))"))
        }
    }
}
