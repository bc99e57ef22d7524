import Testing
@testable import RenderHTMLKit

@Suite struct ScannerTests {
    @Test func findsTagsAndDelimiters() throws {
        let scan = try TemplateScanner.scan("a {{x}} {{=<% %>=}} <%#s%>b<%> p%><%/s%>", maxNesting: 8)
        #expect(scan.tags.map(\.kind) == [.variable, .delimiters, .section, .partial, .close])
        #expect(scan.finalOpen == "<%" && scan.finalClose == "%>")
        #expect(scan.partialNames == ["p"])
    }
}

@Suite struct ScannerScopeTests {
    @Test func delimiterChangesEndWithTheirSection() throws {
        let scan = try TemplateScanner.scan("{{#s}}{{=<% %>=}}<%x%><%/s%>{{y}}", maxNesting: 8)
        #expect(scan.tags.map(\.kind) == [.section, .delimiters, .variable, .close, .variable])
        #expect(scan.finalOpen == "{{")
    }

    @Test func linesAndBodies() throws {
        let scan = try TemplateScanner.scan("a\n{{#items}}12345{{/items}}\n{{! c }}\n{{v}}", maxNesting: 8)
        #expect(scan.tags.last?.line == 4)
        #expect(scan.sectionBodies["items"] == 5)
        #expect(throws: TemplateScanError.self) { try TemplateScanner.scan("{{#a}}{{#a}}{{/a}}{{/a}}", maxNesting: 1) }
    }
}
