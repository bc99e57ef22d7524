#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// render-html through the real daemon, with its sandbox enforced (sandbox/render-html.yml), its
/// limits set through `layers: {render-html: {...}}`, and templates written into <data>/templates.
@Suite(.serialized) final class RenderHTMLEndToEndTests {
    let daemon: Daemon
    var templates: String { daemon.dataDir + "/templates" }

    init() throws {
        daemon = try Daemon(config: """
            layers:
              render-html: {max_output_bytes: 65536, max_partial_depth: 8}
            """)
        let files = [
            "page.mustache": "<h1 title=\"{{title}}\">{{title}}</h1>\n<ul>\n{{#items}}\n  {{>parts/item}}\n{{/items}}\n</ul>\n{{{raw}}}|{{&raw}}\n",
            "parts/item.mustache": "<li data-x='{{name}}'>{{name}}</li>\n",
            "strict.mustache": "<p>\n{{#user}}{{name}}{{/user}}\n{{user.email}}\n</p>",
            "loop.mustache": "x{{>loop}}",
            "ping.mustache": "{{#.}}{{>pong}}{{/.}}",
            "pong.mustache": "{{>ping}}",
            "escape.mustache": "{{>../secret}}",
        ]
        for (name, text) in files { try write(name, text) }
        try "secret\n".write(toFile: daemon.dataDir + "/secret.mustache", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: templates + "/out.mustache", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: templates + "/inside.mustache", withDestinationPath: "page.mustache")
    }

    func write(_ name: String, _ text: String) throws {
        let path = templates + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs one step (no retry); returns its output or its error.
    func call(_ op: String, _ input: JSONValue) throws -> (output: JSONValue?, error: JSONValue?) {
        let view = try daemon.run(["steps": [["id": "s", "layer": "render-html", "op": .string(op), "input": input,
                                              "retry": ["max": 0]]]])
        let error = view["steps"]?[0]?["error"]
        return (view["outputs"]?["s"], error?.isNull == false ? error : nil)
    }

    func html(_ op: String, _ input: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try call(op, input)
        #expect(r.error == nil, "\(String(describing: r.error))", sourceLocation: sourceLocation)
        return r.output?["html"]?.stringValue ?? ""
    }

    var pid: pid_t? { try? daemon.layerPID("render-html") }

    @Test func thePluginRunsConfined() throws {
        let pid = try #require(pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("NoNewPrivs:\t1"), "\(status)")
        #expect(status.contains("Seccomp:\t2"), "\(status)")
    }

    /// An inline template with the usual delimiters, its braces written as the kernel's literal
    /// `{{ '{{' }}`, beside a kernel template that fills data.
    @Test func anInlineTemplateWritesItsBracesAsKernelLiterals() throws {
        let out = try html("render", [
            "template": "<ul>{{ '{{' }}#items}}<li>{{ '{{' }}.}}</li>{{ '{{' }}/items}}</ul>",
            "data": ["items": ["a<b", "c"]],
        ])
        #expect(out == "<ul><li>a&lt;b</li><li>c</li></ul>", "\(out)")
    }

    @Test func escapesTextAttributesAndQuotes() throws {
        let title = "<script>alert(\"x\")</script> & 'q'"
        let out = try html("render", ["template_file": "page.mustache",
                                       "data": ["title": .string(title), "raw": "<b>ok</b>",
                                                "items": [["name": "a\"b"], ["name": "c'><img src=x>"]]]])
        let escTitle = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
        #expect(out == """
            <h1 title="\(escTitle)">\(escTitle)</h1>
            <ul>
              <li data-x='a&quot;b'>a&quot;b</li>
              <li data-x='c&#39;&gt;&lt;img src=x&gt;'>c&#39;&gt;&lt;img src=x&gt;</li>
            </ul>
            <b>ok</b>|<b>ok</b>

            """)
        let r = try call("render", ["template_file": "inside.mustache", "data": [:]])
        #expect(r.output?["bytes"]?.intValue == Int64((r.output?["html"]?.stringValue ?? "").utf8.count))
    }

    @Test func strictModeNamesTheVariableAndLine() throws {
        #expect(try html("render", ["template_file": "strict.mustache", "data": ["user": ["name": "n"]]]) == "<p>\nn\n\n</p>")
        let r = try call("render", ["template_file": "strict.mustache", "data": ["user": ["name": "n"]], "strict": true])
        #expect(r.error?["code"] == "invalid_input", "\(String(describing: r.error))")
        let message = r.error?["message"]?.stringValue ?? ""
        #expect(message.contains("user.email") && message.contains("line 3"), "\(message)")
        #expect(try html("render", ["template_file": "strict.mustache", "strict": true,
                                    "data": ["user": ["name": "n", "email": "e"]]]) == "<p>\nn\ne\n</p>")
    }

    @Test func recursionThroughPartialsIsStoppedAndTheLayerServesOn() throws {
        let before = try #require(pid)
        for file in ["loop.mustache", "ping.mustache"] {
            let r = try call("render", ["template_file": .string(file), "data": ["k": 1]])
            #expect(r.error?["code"] == "resource_exhausted", "\(file): \(String(describing: r.error))")
            #expect((r.error?["message"]?.stringValue ?? "").contains("max_partial_depth"))
        }
        #expect(try html("render", ["template": "ok", "data": [:]]) == "ok")
        #expect(pid == before, "the plugin was restarted")
    }

    @Test func templatePathsCannotLeaveTheTemplatesFolder() throws {
        for path in ["../secret.mustache", "/etc/passwd", "out.mustache", "parts/../../secret.mustache"] {
            let r = try call("render", ["template_file": .string(path)])
            #expect(r.error?["code"] == "invalid_input", "\(path): \(String(describing: r.error))")
        }
        let r = try call("render", ["template_file": "escape.mustache"])
        #expect(r.error?["code"] == "invalid_input", "\(String(describing: r.error))")
        #expect(try call("render", ["template_file": "nope.mustache"]).error?["code"] == "not_found")
    }

    @Test func limitsFromTheLayerSettingsAtTheirEdges() throws {
        let exactly = String(repeating: "a", count: 65536)
        let ok = try call("render", ["template": "<%x%>", "delimiters": "<% %>", "data": ["x": .string(exactly)]])
        #expect(ok.output?["bytes"] == 65536, "\(String(describing: ok.error))")
        let over = try call("render", ["template": "<%x%>", "delimiters": "<% %>", "data": ["x": .string(exactly + "a")]])
        #expect(over.error?["code"] == "resource_exhausted")
        // A step may lower a limit, not raise it.
        #expect(try call("render", ["template": "a", "max_output_bytes": 65537]).error?["code"] == "invalid_input")
        // Partial depth 8 (the layer's setting) is allowed, 9 is not.
        let chain = (1...9).map { i in ("c\(i)", i == 9 ? "end" : "<%> c\(i + 1)%>") }
        var partials: [String: JSONValue] = [:]
        for (name, text) in chain { partials[name] = .string(text) }
        let nine = try call("render", ["template": "<%> c1%>", "delimiters": "<% %>", "partials": .object(partials)])
        #expect(nine.error?["code"] == "resource_exhausted")
        partials["c8"] = "end"
        #expect(try html("render", ["template": "<%> c1%>", "delimiters": "<% %>", "partials": .object(partials)]) == "end")
    }

    @Test func deepestAllowedNestingDoesNotCrashThePlugin() throws {
        let before = try #require(pid)
        // 64 nested sections in each of 8 nested partials: the deepest the layer's settings allow.
        let sections = String(repeating: "<%#a%>", count: 64) + "x" + String(repeating: "<%/a%>", count: 64)
        var partials: [String: JSONValue] = [:]
        for i in 1...8 { partials["p\(i)"] = .string(sections.replacingOccurrences(of: "x", with: i == 8 ? "x" : "<%> p\(i + 1)%>")) }
        let out = try html("render", ["template": "<%> p1%>", "delimiters": "<% %>", "partials": .object(partials),
                                      "data": ["a": true]])
        #expect(out == "x")
        let brackets = String(repeating: "[", count: 4) + "x" + String(repeating: "]", count: 4)
        #expect(try call("markdown", ["markdown": .string(brackets)]).error == nil)
        let list = (0..<128).map { String(repeating: " ", count: $0) + "- x" }.joined(separator: "\n")
        #expect(try call("markdown", ["markdown": .string(list)]).error == nil)
        #expect(try call("markdown", ["markdown": .string(String(repeating: "[", count: 10000))]).error?["code"] == "invalid_input")
        #expect(pid == before, "the plugin was restarted")
    }

    @Test func markdownIsSafeByDefault() throws {
        let source = "# T\n\n<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](https://ok.org)"
        let safe = try html("markdown", ["markdown": .string(source)])
        #expect(!safe.contains("<script") && !safe.contains("<img"), "\(safe)")
        #expect(safe.contains("&lt;script&gt;") && safe.contains("<a href=\"#\">a</a>")
                && safe.contains("<a href=\"https://ok.org\">b</a>"), "\(safe)")
        // With allow_html, Ink reads `<img …>` (not self-closing) as raw HTML up to the end of the text.
        let trusted = try html("markdown", ["markdown": "<script>alert(1)</script>\n\n[a](javascript:alert(1))",
                                            "allow_html": true])
        #expect(trusted.contains("<script>alert(1)</script>") && trusted.contains("<a href=\"#\">a</a>"), "\(trusted)")
    }
}
