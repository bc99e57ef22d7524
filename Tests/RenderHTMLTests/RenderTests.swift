import JALMWire
import Testing
@testable import RenderHTMLKit

@Suite struct RenderTests {
    @Test func escapesTextAndAttributes() throws {
        let f = try Fixture()
        let data: JSONValue = ["v": "<script>alert(\"x\" & 'y')</script>"]
        let html = f.html(["template": "<p title=\"{{v}}\">{{v}}</p>|{{{v}}}|{{&v}}", "data": data])
        let escaped = "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        #expect(html == "<p title=\"\(escaped)\">\(escaped)</p>|<script>alert(\"x\" & 'y')</script>|<script>alert(\"x\" & 'y')</script>")
    }

    @Test func missingRendersEmptyUnlessStrict() throws {
        let f = try Fixture()
        #expect(f.html(["template": "a{{nope}}b", "data": [:]]) == "ab")
        let e = f.error(["template": "line1\n{{#x}}{{ok}}{{/x}}\n  {{nope.deep}}", "data": ["x": ["ok": 1]], "strict": true])
        #expect(e?.code == .invalidInput)
        #expect(e?.details?["variable"] == "nope.deep")
        #expect(e?.details?["line"] == 3)
    }

    @Test func strictFollowsTheContextStack() throws {
        let f = try Fixture()
        let data: JSONValue = ["title": "T", "items": [["name": "a", "n": .null], ["name": "b", "n": .null]], "o": ["p": 1]]
        #expect(f.html(["template": "{{#items}}{{name}}{{title}}{{n}}{{/items}}{{o.p}}", "data": data, "strict": true]) == "aTbT1")
        #expect(f.error(["template": "{{o.q}}", "data": data, "strict": true])?.details?["variable"] == "o.q")
        #expect(f.error(["template": "{{#items}}{{.title}}{{/items}}", "data": data, "strict": true])?.details?["variable"] == ".title")
        // A section on a missing name is false, strict or not.
        #expect(f.html(["template": "{{#nope}}x{{/nope}}{{^nope}}y{{/nope}}", "data": data, "strict": true]) == "y")
    }

    @Test func partialsFromFilesAndInline() throws {
        let f = try Fixture(files: ["row.mustache": "<li>{{name}}</li>\n", "sub/deep.mustache": "[{{>row}}]"])
        let data: JSONValue = ["items": [["name": "a"], ["name": "<b>"]]]
        #expect(f.html(["template": "<ul>\n{{#items}}\n  {{>row}}\n{{/items}}\n</ul>", "data": data])
                == "<ul>\n  <li>a</li>\n  <li>&lt;b&gt;</li>\n</ul>")
        #expect(f.html(["template": "{{>sub/deep}}", "data": ["name": "n"]]) == "[<li>n</li>\n]")
        #expect(f.html(["template": "{{>p}}", "partials": ["p": "P{{name}}"], "data": ["name": 1]]) == "P1")
        #expect(f.error(["template": "{{>missing}}"])?.code == .notFound)
    }

    @Test func recursionThroughPartialsIsStopped() throws {
        let f = try Fixture(files: ["loop.mustache": "x{{>loop}}", "a.mustache": "{{>b}}", "b.mustache": "{{#.}}{{>a}}{{/.}}"])
        let e = f.error(["template": "{{>loop}}"])
        #expect(e?.code == .resourceExhausted)
        #expect(e?.details?["reason"] == "max_partial_depth")
        #expect(f.error(["template": "{{>a}}", "data": ["k": 1]])?.details?["reason"] == "max_partial_depth")
        // A tree walked by a recursive partial is fine within the depth.
        let tree: JSONValue = ["name": "r", "kids": [["name": "a", "kids": [["name": "b", "kids": []]]]]]
        let g = try Fixture(files: ["node.mustache": "({{name}}{{#kids}}{{>node}}{{/kids}})"])
        #expect(g.html(["template": "{{>node}}", "data": tree]) == "(r(a(b)))")
        #expect(g.error(["template": "{{>node}}", "data": tree, "max_partial_depth": 2])?.details?["reason"] == "max_partial_depth")
        #expect(g.html(["template": "{{>node}}", "data": tree, "max_partial_depth": 3]) == "(r(a(b)))")
    }

    @Test func outputBlowUpIsStoppedEarly() throws {
        let f = try Fixture()
        let list: JSONValue = .array((0..<200).map { .int($0) })
        let t = "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}0123456789{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}"
        let start = ContinuousClock.now
        let e = f.error(["template": .string(t), "data": ["a": list]])
        #expect(e?.code == .resourceExhausted)
        #expect(e?.details?["reason"] == "max_output_bytes")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func objectsAndListsPrintAsJSONWithinTheBudget() throws {
        let f = try Fixture()
        #expect(f.html(["template": "{{o}}|{{xs}}", "data": ["o": ["a": 1], "xs": [1, "b"]]]) == "{&quot;a&quot;:1}|[1,&quot;b&quot;]")
        // 2,000 prints of a 1 KB object: ~2 MB of output from a few bytes of template.
        let small = try Fixture(config: ["max_output_bytes": 65536])
        let e = small.error(["template": "{{#a}}{{o}}{{/a}}",
                             "data": ["a": .array((0..<2000).map { .int($0) }), "o": ["s": .string(String(repeating: "x", count: 1000))]]])
        #expect(e?.details?["reason"] == "max_output_bytes")
        #expect(e?.message.contains("the render was stopped") == true, "\(String(describing: e))")
    }

    @Test func aListsInsidesAreNotReachable() throws {
        let f = try Fixture()
        #expect(f.html(["template": "{{#a.items}}x{{/a.items}}{{a.bodyBytes}}{{a.budget}}", "data": ["a": [1, 2]]]) == "")
        let list: JSONValue = .array((0..<200).map { .int($0) })
        let t = "{{#a.items}}{{#a.items}}{{#a.items}}{{#a.items}}0123456789{{/a.items}}{{/a.items}}{{/a.items}}{{/a.items}}"
        let start = ContinuousClock.now
        #expect(f.html(["template": .string(t), "data": ["a": list]]) == "")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func limitsAtTheirEdges() throws {
        let t = try Fixture(config: ["max_template_bytes": 100])
        let t99 = String(repeating: "a", count: 99)
        #expect(t.html(["template": .string(t99 + "b")])?.count == 100)
        #expect(t.error(["template": .string(t99 + "bc")])?.details?["reason"] == "max_template_bytes")
        #expect(t.error(["template": "{{>p}}", "partials": ["p": .string(t99)]])?.details?["reason"] == "max_template_bytes")
        #expect(t.html(["template": "{{>p}}", "partials": ["p": .string(String(repeating: "a", count: 93))]])?.count == 93)
        let f = try Fixture(config: ["max_output_bytes": 50])
        #expect(f.html(["template": "{{x}}", "data": ["x": .string(String(repeating: "y", count: 50))]])?.count == 50)
        #expect(f.error(["template": "{{x}}", "data": ["x": .string(String(repeating: "y", count: 51))]])?.details?["reason"] == "max_output_bytes")
        #expect(f.error(["template": "a", "max_output_bytes": 51])?.code == .invalidInput)
        #expect(f.html(["template": "ab", "max_output_bytes": 2]) == "ab")
        #expect(f.error(["template": "abc", "max_output_bytes": 2])?.details?["reason"] == "max_output_bytes")
    }

    @Test func customDelimiters() throws {
        let f = try Fixture()
        #expect(f.html(["template": "<ul>\n<%#xs%>\n<li><%.%></li>\n<%/xs%>\n</ul>", "delimiters": "<% %>", "data": ["xs": [1, 2]]])
                == "<ul>\n<li>1</li>\n<li>2</li>\n</ul>")
        #expect(f.html(["template": "<%a%>|<%& b%>", "delimiters": "<% %>", "strict": true, "data": ["a": 1, "b": "<"]]) == "1|<")
        let e = f.error(["template": "x\n<%#s%><%a%><%/s%>", "delimiters": "<% %>", "strict": true, "data": ["s": true]])
        #expect(e?.details?["variable"] == "a" && e?.details?["line"] == 2)
        #expect(f.html(["template": "[[>p]]", "delimiters": "[[ ]]", "partials": ["p": "[[v]]!"], "data": ["v": "<"]]) == "&lt;!")
    }

    @Test func refusesWhatCannotBeBounded() throws {
        let f = try Fixture()
        #expect(f.error(["template": "{{<parent}}{{/parent}}"])?.code == .invalidInput)
        #expect(f.error(["template": "{{$block}}{{/block}}"])?.code == .invalidInput)
        #expect(f.error(["template": "{{>*dyn}}"])?.code == .invalidInput)
        #expect(f.error(["template": "{{%CONTENT_TYPE:TEXT}}"])?.code == .invalidInput)
        #expect(f.error(["template": "{{#__jalm_enter_0}}{{/__jalm_enter_0}}"])?.code == .invalidInput)
        let deep = String(repeating: "{{#a}}", count: 65) + String(repeating: "{{/a}}", count: 65)
        #expect(f.error(["template": .string(deep)])?.code == .invalidInput)
        #expect(f.error(["template": "{{#a}}x"])?.code == .invalidInput)
        #expect(f.error(["template": "{{a"])?.code == .invalidInput)
        #expect(throws: ConfigError.self) { try Fixture(config: ["max_output_bytes": 0]) }
        #expect(throws: ConfigError.self) { try Fixture(config: ["max_partial_depth": 65]) }
        #expect(throws: ConfigError.self) { try Fixture(config: ["unknown": 1]) }
    }
}
