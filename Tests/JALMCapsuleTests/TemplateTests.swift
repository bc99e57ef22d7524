import JALMCapsule
import JALMCore
import JALMWire
import Testing

@Suite struct TemplateTests {
    let context = TemplateContext(
        vars: ["name": "ada", "limits": ["max": 3], "n": 7],
        stepOutputs: ["fetch": ["rows": [["name": "x", "age": 41], ["name": "y"]], "count": 2, "ok": true]])
    let at = JSONPointer(["steps", "1", "input"])

    func render(_ value: JSONValue) throws -> JSONValue {
        try Template.render(value, context: context, at: at)
    }

    @Test func wholeTemplateKeepsTheValueType() throws {
        #expect(try render("{{ steps.fetch.output.count }}") == 2)
        #expect(try render("{{steps.fetch.output.ok}}") == true)
        #expect(try render("{{ steps.fetch.output.rows[0] }}") == ["name": "x", "age": 41])
        #expect(try render("{{ vars.limits }}") == ["max": 3])
    }

    @Test func wholeOutputIsReferenced() throws {
        #expect(try render("{{ steps.fetch.output }}") == context.stepOutputs["fetch"])
    }

    @Test func indexesAndNestedKeysResolve() throws {
        #expect(try render("{{ steps.fetch.output.rows[1].name }}") == "y")
        #expect(try render("{{ vars.limits.max }}") == 3)
    }

    @Test func interpolationWritesStringsAsIsAndOthersAsJSON() throws {
        #expect(try render("hi {{ vars.name }}, {{ vars.n }} of {{ vars.limits }}") == #"hi ada, 7 of {"max":3}"#)
        #expect(try render("count={{steps.fetch.output.count}}") == "count=2")
    }

    @Test func aQuotedTextIsALiteralSoBracesCanBeWrittenAnywhere() throws {
        #expect(try render("{{ '{{' }}") == "{{")
        #expect(try render("{{ '{{' }}name{{ '}}' }}") == "{{name}}")
        #expect(try render(#"a {{ "}}" }} b {{ vars.name }}"#) == "a }} b ada")
        #expect(try render("<p>{{ '{{' }}#items}}{{ '{{' }}.}}{{ '{{' }}/items}}</p> for {{ vars.n }}")
                == "<p>{{#items}}{{.}}{{/items}}</p> for 7")
        #expect(try Template.references(in: "{{ '{{' }}x}}", at: at).isEmpty, "a literal refers to nothing")
        #expect(throws: RunnerError.self) { try render("{{ 'it's' }}") }
    }

    @Test func anExpressionInBracesIsEvaluatedOverVarsAndStepOutputs() throws {
        #expect(try render("{{ len(steps.fetch.output.rows) }}") == 2)
        #expect(try render("{{ vars.n * 2 }}") == 14)
        #expect(try render("{{ vars.n - 1 }}") == 6, "with spaces, - is subtraction")
        #expect(try render("{{ coalesce(vars.nope, vars.name) }}") == "ada", "a missing key is null, as in expr")
        #expect(try render("{{ map(steps.fetch.output.rows, r => r.name) }}") == ["x", "y"])
        #expect(try render("{{ upper(vars.name) }} has {{ vars.limits.max + 1 }}") == "ADA has 4")
        #expect(try render("{{ steps.fetch.output.ok ? 'yes' : 'no' }}") == "yes")
        let refs = try Template.references(in: "{{ len(steps.fetch.output.rows) + vars.n }}", at: at)
        #expect(Set(refs.map { "\($0.root)" }) == ["steps(\"fetch\")", "vars(\"n\")"])
    }

    @Test func aTemplateExpressionThatCannotBeReadOrEvaluatedFailsWithItsPlace() throws {
        func fails(_ text: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try render(.string(text))
                Issue.record("\(text) rendered", sourceLocation: sourceLocation)
            } catch let error as RunnerError {
                #expect(error.pointer == "/steps/1/input", sourceLocation: sourceLocation)
                #expect(error.message.contains(message), "\(error.message)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        fails("{{ vars.n + }}", "malformed template {{ vars.n + }}: the expression ends where a value was expected")
        fails("{{ steps.fetch.state == 'ok' }}", "a template reads steps.ID.output (a when condition reads state and error)")
        fails("{{ len(vars) }}", "reads vars as a whole")
        fails("{{ $.other + 1 }}", "a template expression reads vars.NAME and steps.ID.output")
        #expect(try render("{{ $.vars.n + 1 }}") == 8, "$ is the same root, written out")
        fails("{{ vars.name + 1 }}", "template {{ vars.name + 1 }}:")
        fails("{{ nope.x }}", "unknown template root \"nope\"")
    }

    @Test func templatesNestedInObjectsAndArraysRender() throws {
        let input: JSONValue = ["a": ["b": ["{{ vars.n }}", "plain"]], "c": 1]
        #expect(try render(input) == ["a": ["b": [7, "plain"]], "c": 1])
    }

    @Test func keysAreNotTemplates() throws {
        #expect(try render(["{{ vars.n }}": 1]) == ["{{ vars.n }}": 1])
    }

    @Test func valueWithoutTemplatesIsReturnedUnchanged() throws {
        let input: JSONValue = ["a": [1, "two", ["three": nil]], "b": "{ not a template }"]
        #expect(try render(input) == input)
        #expect(!Template.containsTemplate(input))
    }

    @Test func containsTemplateFindsNestedBraces() {
        #expect(Template.containsTemplate(["a": [1, ["b": "x {{ vars.n }}"]]]))
    }

    @Test func missingStepOutputNamesTheTemplateAndPointer() {
        expectInvalid(at: "/steps/1/input/p", "{{ steps.nope.output }}") {
            _ = try render(["p": "{{ steps.nope.output }}"])
        }
    }

    @Test func missingVarIsInvalid() {
        expectInvalid(at: "/steps/1/input", "no var \"zzz\"") { _ = try render("{{ vars.zzz }}") }
    }

    @Test func missingPathIsInvalid() {
        expectInvalid(at: "/steps/1/input/0", "[5]") { _ = try render(["{{ steps.fetch.output.rows[5] }}"]) }
        expectInvalid(at: "/steps/1/input", "has no .missing") { _ = try render("{{ steps.fetch.output.missing }}") }
    }

    @Test func referencesListEveryTemplateWithItsPointer() throws {
        let refs = try Template.references(in: ["a": "{{ vars.n }} and {{ steps.fetch.output.rows[0].name }}",
                                                "b": ["{{vars.limits.max}}"]], at: at)
        #expect(refs.map(\.pointer.description) == ["/steps/1/input/a", "/steps/1/input/a", "/steps/1/input/b/0"])
        #expect(refs[0].root == .vars("n") && refs[0].path.isEmpty)
        #expect(refs[1].root == .steps("fetch") && refs[1].path == [.key("rows"), .index(0), .key("name")])
        #expect(refs[2].path == [.key("max")])
    }

    @Test func malformedTemplatesAreInvalidAtTheirString() {
        let cases: [(String, String)] = [
            ("{{ vars.n", "unclosed"), ("{{ }}", "empty"), ("{{ foo.x }}", "unknown template root"),
            ("{{ secrets.token.x }}", "takes no path"), ("{{ secrets }}", "secrets.NAME"), ("{{ steps.a }}", "expected steps.a.output"),
            ("{{ steps.a.result }}", "output"), ("{{ vars.x[a] }}", "[N]"), ("{{ vars.x..y }}", "empty key"),
            ("{{ vars }}", "vars.NAME"), ("{{ vars.a b }}", "unexpected"),
        ]
        for (text, message) in cases {
            expectInvalid(at: "/steps/1/input/k", message) {
                _ = try Template.references(in: ["k": .string(text)], at: at)
            }
        }
    }
}
