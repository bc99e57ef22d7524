import JALMLayerKit
import JALMWire

/// The render-html layer: Mustache templates and Markdown to HTML. Pure functions of their input and
/// of the read-only templates folder; no network, no writes (sandbox/render-html.yml).
public final class RenderHTMLHandler: LayerHandler {
    public let ops = ["render", "markdown"]
    let limits: RenderLimits
    let store: TemplateStore

    /// `templates`: the folder `template_file` and partials are read from (`<data>/templates`).
    public init(templates: String, config: JSONValue) throws {
        self.limits = try RenderLimits.from(config: config)
        self.store = TemplateStore(root: templates)
    }

    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "render": return try render(input, deadline: context.deadline)
        case "markdown": return try markdown(input)
        default: throw CallFailure(.notFound, "unknown op \"\(op)\" in render-html", details: ["op": .string(op)])
        }
    }

    /// `render {template | template_file, data, partials, strict, delimiters, max_*}` → `{html, bytes}`.
    func render(_ value: JSONValue, deadline: ContinuousClock.Instant) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "render", value, allowed: [
            "template", "template_file", "data", "partials", "strict", "delimiters",
            "max_template_bytes", "max_output_bytes", "max_partial_depth",
        ])
        let maxTemplate = try input.limit("max_template_bytes", ceiling: limits.maxTemplateBytes)
        let maxOutput = try input.limit("max_output_bytes", ceiling: limits.maxOutputBytes)
        let maxDepth = try input.limit("max_partial_depth", ceiling: limits.maxPartialDepth)
        let strict = try input.bool("strict", default: false)
        let data: [String: JSONValue]
        switch input.fields["data"] {
        case nil, .null?: data = [:]
        case .object(let o)?: data = o
        case let other?: throw input.invalid("data", "must be an object, not \(other.typeName)")
        }
        var inline: [String: String] = [:]
        for (name, text) in try input.object("partials") ?? [:] {
            guard let s = text.stringValue else { throw input.invalid("partials", "values must be template strings (\"\(name)\")") }
            inline[name] = s
        }
        var delimiters: (String, String)?
        if let text = try input.optionalString("delimiters") {
            switch TemplatePreparer.delimiters(text) {
            case .success(let d): delimiters = d
            case .failure(let refusal): throw input.invalid("delimiters", refusal.why)
            }
        }
        let template: String, label: String
        switch (try input.optionalString("template"), try input.optionalString("template_file")) {
        case (let text?, nil):
            template = text
            label = "the template"
        case (nil, let path?):
            guard delimiters == nil else { throw input.invalid("delimiters", "applies to an inline template only") }
            template = try store.read(path, limit: maxTemplate, what: "template_file")
            label = "template \"\(path)\""
        case (nil, nil): throw input.invalid("template", "or \"template_file\" is required")
        case (_?, _?): throw input.invalid("template_file", "cannot be given with \"template\"")
        }
        let prepared = try TemplatePreparer.prepare(
            template: template, label: label, delimiters: delimiters,
            partials: PartialSource(inline: inline, store: store), strict: strict, limits: limits,
            maxTemplateBytes: maxTemplate)
        let html = try MustacheRenderer.render(prepared, data: data, maxOutputBytes: maxOutput,
                                               maxPartialDepth: maxDepth, deadline: deadline)
        return ["html": .string(html), "bytes": .int(Int64(html.utf8.count))]
    }

    /// `markdown {markdown, allow_html, max_output_bytes}` → `{html, bytes}`.
    func markdown(_ value: JSONValue) throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "markdown", value, allowed: ["markdown", "allow_html", "max_output_bytes"])
        let source = try input.string("markdown")
        let size = source.utf8.count
        guard size <= limits.maxMarkdownBytes else {
            throw CallFailure(.resourceExhausted,
                              "the markdown is \(size) bytes, over max_markdown_bytes (\(limits.maxMarkdownBytes))",
                              details: ["size": .int(Int64(size)), "limit": .int(Int64(limits.maxMarkdownBytes)),
                                        "reason": "max_markdown_bytes"])
        }
        if let (problem, line) = MarkdownRenderer.nestingProblem(source, limit: limits.maxMarkdownNesting) {
            throw CallFailure(.invalidInput, "the markdown nests too deep, line \(line): \(problem)",
                              details: ["line": .int(Int64(line)), "limit": .int(Int64(limits.maxMarkdownNesting)),
                                        "reason": "max_markdown_nesting"])
        }
        let maxOutput = try input.limit("max_output_bytes", ceiling: limits.maxOutputBytes)
        let allowHTML = try input.bool("allow_html", default: false)
        let html = MarkdownRenderer.html(source, allowHTML: allowHTML)
        let bytes = html.utf8.count
        guard bytes <= maxOutput else {
            throw CallFailure(.resourceExhausted, "the HTML is \(bytes) bytes, over max_output_bytes (\(maxOutput))",
                              details: ["size": .int(Int64(bytes)), "limit": .int(Int64(maxOutput)),
                                        "reason": "max_output_bytes"])
        }
        return ["html": .string(html), "bytes": .int(Int64(bytes))]
    }
}
