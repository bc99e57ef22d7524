import JALMExpr
import JALMWire
import Testing

/// The data most cases are evaluated over: an order as a webhook would deliver it.
let order: JSONValue = [
    "payload": ["city": "Lyon", "name": "  Ada Lovelace  ", "tags": ["vip", "eu"], "zip": "69001"],
    "items": [["sku": "a", "price": 10, "qty": 2], ["sku": "b", "price": 2.5, "qty": 4], ["sku": "c", "price": 7, "qty": 0]],
    "total": 35, "paid": true, "note": .null,
]

@Suite struct ExprEvaluationTests {
    /// Source → expected value over `order`.
    static let cases: [(String, JSONValue)] = [
        // Paths and literals
        ("$.payload.city", "Lyon"),
        ("$.items[0].price", 10),
        ("$.items[-1].sku", "c"),
        ("$.items[9]", nil),
        ("$.missing.deeper", nil),
        ("$[\"payload\"][\"zip\"]", "69001"),
        ("$.note", nil),
        ("[1, 'two', true, null, 2.5]", [1, "two", true, nil, 2.5]),
        ("{a: 1, \"b c\": [2]}", ["a": 1, "b c": [2]]),
        ("'it\\'s' + \"\\u00e9\\n\"", "it's\u{e9}\n"),
        ("-9223372036854775808", .int(.min)),
        ("1e3", 1000.0),
        // Arithmetic
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("8 / 2", 4),
        ("7 % 3", 1),
        ("-$.total + 5", -30),
        ("$.items[1].price * $.items[1].qty", 10.0),
        ("0.1 + 0.2 > 0.3", true),
        // Comparisons and logic
        ("$.total >= 35 && $.paid", true),
        ("$.total > 35 || $.payload.city == 'Lyon'", true),
        ("!$.paid", false),
        ("not $.paid or $.total == 35.0", true),
        ("$.total > 100 and $.missing.x", false),  // && short-circuits: the right side is never read
        ("$.note == null", true),
        ("[1, {a: [2]}] == [1.0, {a: [2]}]", true),
        ("'a' < 'b'", true),
        ("$.paid ? 'yes' : 'no'", "yes"),
        ("$.total > 100 ? 'big' : $.total > 10 ? 'medium' : 'small'", "medium"),
        ("1 == '1'", false),
        // Strings
        ("lower($.payload.city)", "lyon"),
        ("upper('straße')", "STRASSE"),
        ("trim($.payload.name)", "Ada Lovelace"),
        ("contains($.payload.city, 'yo')", true),
        ("contains($.payload.tags, 'vip')", true),
        ("contains($.payload, 'zip')", true),
        ("starts_with($.payload.zip, '69')", true),
        ("ends_with($.payload.zip, '02')", false),
        ("split('a,b,,c', ',')", ["a", "b", "", "c"]),
        ("split('héllo', '')", ["h", "é", "l", "l", "o"]),
        ("join($.payload.tags, '+')", "vip+eu"),
        ("join([1, 2.5, true], '-')", "1-2.5-true"),
        ("substr('héllo', 1, 3)", "éll"),
        ("substr('hello', 3)", "lo"),
        ("substr('hello', 10)", ""),
        ("replace('a-b-c', '-', '+')", "a+b+c"),
        ("len('héllo')", 5),
        ("len($.items)", 3),
        ("len($.payload)", 4),
        ("string($.items[0])", "{\"price\":10,\"qty\":2,\"sku\":\"a\"}"),
        ("string(12) + 'px'", "12px"),
        ("number('42') + number('0.5')", 42.5),
        // Arrays and lambdas
        ("map($.items, x => x.price * 2)", [20, 5.0, 14]),
        ("map($.items, x => x.sku)", ["a", "b", "c"]),
        ("filter($.items, x => x.qty > 0)[1].sku", "b"),
        ("len(filter($.items, i => i.qty == 0))", 1),
        ("any($.items, x => x.price > 9)", true),
        ("all($.items, x => x.price > 9)", false),
        ("all([], x => x)", true),
        ("sum(map($.items, x => x.price * x.qty))", 30.0),
        ("sum([1, 2, 3])", 6),
        ("min(map($.items, x => x.price))", 2.5),
        ("max(3, 9, 4)", 9),
        ("max([])", nil),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("sort(['b', 'a'])", ["a", "b"]),
        ("map($.items, x => map($.payload.tags, t => x.sku + t))", [["avip", "aeu"], ["bvip", "beu"], ["cvip", "ceu"]]),
        ("map([1, 2], x => map([10], x => x))", [[10], [10]]),  // the inner x shadows the outer
        ("keys($.payload)", ["city", "name", "tags", "zip"]),
        ("values({b: 2, a: 1})", [1, 2]),
        ("coalesce($.note, $.missing, 'fallback')", "fallback"),
        ("type($.items)", "array"),
        ("round(2.5) + floor(-1.5) + ceil(1.2) + abs(-3)", 6),
        ("map(null, x => x)", []),
    ]

    @Test(arguments: cases) func evaluates(_ source: String, _ expected: JSONValue) throws {
        let value = try Expression(parsing: source).evaluate(over: order)
        #expect(value.matches(expected),
                "\(source) gave \(JSONWriter.string(value)), expected \(JSONWriter.string(expected))")
    }

    /// Source → the runtime error's message start and its byte offset (always invalid_input).
    static let runtimeErrors: [(String, String, Int)] = [
        ("$.total && true", "&& needs a boolean, got integer", 8),
        ("$.payload.city + 1", "+ needs two numbers, got string and integer", 15),
        ("$.total / 0", "division by zero", 8),
        ("9223372036854775807 + 1", "integer overflow in +", 20),
        ("$.total.x", "cannot read key \"x\" of a value of type integer", 7),
        ("$.items['a']", "an array index must be an integer", 7),
        ("'a' < 1", "< compares two numbers or two strings", 4),
        ("upper(1)", "upper(x): expected a string, got integer", 0),
        ("filter($.items, x => x.price)", "filter's lambda needs a boolean", 0),
        ("sum(['a'])", "sum needs an array of numbers", 0),
        ("number('12abc')", "number: \"12abc\" is not a number", 0),
        ("$.note ? 1 : 2", "? : needs a boolean, got null", 7),
    ]

    @Test(arguments: runtimeErrors) func runtimeError(_ source: String, _ message: String, _ offset: Int) throws {
        let expression = try Expression(parsing: source)
        do {
            let value = try expression.evaluate(over: order)
            Issue.record("\(source) gave \(JSONWriter.string(value)) instead of an error")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.reason.hasPrefix(message), "\(source): \(error.reason)")
            #expect(error.position?.offset == offset, "\(source): \(error.message)")
        }
    }
}
