import JALMWire
import Testing
@testable import RenderHTMLKit

@Suite struct MarkdownTests {
    @Test func rendersMarkdown() throws {
        let f = try Fixture()
        #expect(try f.markdown(["markdown": "# Title\n\nSome *em* and [a link](https://example.org/a?b=1&c=2)."])
                == "<h1>Title</h1><p>Some <em>em</em> and <a href=\"https://example.org/a?b=1&amp;c=2\">a link</a>.</p>")
    }

    @Test func rawHTMLIsEscapedByDefault() throws {
        let f = try Fixture()
        let block = try f.markdown(["markdown": "<script>alert(1)</script>\n\ntext <b onclick=\"x()\">bold</b>"])
        #expect(!block.contains("<script") && !block.contains("<b "))
        #expect(block.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(block.contains("&lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;"))
        // Ink lets `&...;` carry raw markup through; not here.
        #expect(!(try f.markdown(["markdown": "a &<img src=x onerror=alert(1)>; b"])).contains("<img"))
    }

    @Test func rawHTMLPassesWithAllowHTML() throws {
        let f = try Fixture()
        let html = try f.markdown(["markdown": "<div class=\"x\">hi</div>", "allow_html": true])
        #expect(html.contains("<div class=\"x\">hi</div>"))
    }

    @Test func attributesCannotBeBrokenOutOf() throws {
        let f = try Fixture()
        let link = try f.markdown(["markdown": "[x](https://a.org/\" onmouseover=\"alert(1))"])
        #expect(!link.contains("\" onmouseover"))
        let code = try f.markdown(["markdown": "```js\" onclick=\"x\n<b>\n```"])
        #expect(!code.contains("\" onclick") && code.contains("&lt;b&gt;"))
    }

    @Test func dangerousLinkTargetsAreNeutralised() throws {
        let f = try Fixture()
        for target in ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                       "vbscript:x", " javascript:alert(1)", "java&#x09;script:alert(1)", "javascript&colon;alert(1)"] {
            for allow in [false, true] {
                let html = try f.markdown(["markdown": .string("[x](\(target)) ![i](\(target))"), "allow_html": .bool(allow)])
                #expect(html.contains("<a href=\"#\">x</a>") && html.contains("<img src=\"#\""), "\(target): \(html)")
            }
        }
        for target in ["https://a.org/x", "/relative/path", "page.html#frag", "mailto:a@b.org", "?q=1"] {
            let html = try f.markdown(["markdown": .string("[x](\(target))")])
            #expect(html.contains("href=\"\(target)\""), "\(target): \(html)")
        }
    }

    @Test func emphasisPastTheMarkerBudgetPrintsAsText() throws {
        let f = try Fixture()
        #expect(try f.markdown(["markdown": "*a* _b_ ~~c~~ `x_y*z`"]) == "<p><em>a</em> <em>b</em> <s>c</s> <code>x_y*z</code></p>")
        let many = String(repeating: "*a* ", count: 600)
        let html = try f.markdown(["markdown": .string(many)])
        #expect(html.contains("<em>a</em>") && html.hasSuffix("*a*</p>"), "\(html.suffix(40))")
    }

    @Test func limits() throws {
        #expect(try Fixture().markdown(["markdown": "a & b &amp; &#60; &x<y;"]) == "<p>a &amp; b &amp; &#60; &amp;x&lt;y;</p>")
        let f = try Fixture(config: ["max_markdown_bytes": 10])
        #expect(try f.markdown(["markdown": "0123456789"]) == "<p>0123456789</p>")
        #expect(throws: CallFailure.self) { try f.markdown(["markdown": "0123456789a"]) }
        #expect(throws: CallFailure.self) { try f.markdown(["markdown": "0123456789", "max_output_bytes": 16]) }
        #expect(try f.markdown(["markdown": "0123456789", "max_output_bytes": 17]) == "<p>0123456789</p>")
    }

    @Test func nestingPastTheLimitIsRefused() throws {
        let f = try Fixture()
        for source in [String(repeating: "[", count: 5), String(repeating: " ", count: 129) + "- x",
                       String(repeating: "![", count: 5), String(repeating: "[", count: 5000)] {
            #expect(throws: CallFailure.self) { try f.markdown(["markdown": .string(source)]) }
        }
        #expect(try f.markdown(["markdown": "[a] [b] [c]"]) == "<p>[a] [b] [c]</p>")
    }

    static let pathological: [String] = [
        String(repeating: ">", count: 5000) + " x", String(repeating: "[", count: 4),
        String(repeating: "![", count: 4), String(repeating: "[[[[x]]]] ", count: 2000),
        String(repeating: "&", count: 60000), String(repeating: "&amp;", count: 10000), (0..<128).map { String(repeating: " ", count: $0) + "- x\n" }.joined(),
        String(repeating: "*", count: 5000) + "x", String(repeating: "- ", count: 3000) + "x",
        String(repeating: "  - x\n", count: 2000), String(repeating: "`", count: 5000),
        String(repeating: "[a](", count: 4), String(repeating: "_a", count: 30000), String(repeating: "*a", count: 30000),
        String(repeating: "~~a", count: 20000),
    ]

    @Test(arguments: 0..<pathological.count) func pathologicalInputFinishes(index: Int) throws {
        let f = try Fixture()
        let start = ContinuousClock.now
        _ = try f.markdown(["markdown": .string(Self.pathological[index])])
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
