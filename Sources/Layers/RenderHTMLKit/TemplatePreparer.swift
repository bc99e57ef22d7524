import JALMWire
import Mustache

/// A template and its partials, scanned, loaded, rewritten with the layer's guards and parsed by
/// swift-mustache: ready to render under a `RenderBudget`.
struct PreparedTemplate {
    var root: MustacheTemplate
    var library: MustacheLibrary
    /// Partial names and text sizes, by guard index.
    var partials: [(name: String, bytes: Int)]
    var strictTags: [StrictTag]
    var sectionBodies: [String: Int]
    var largestBody: Int
    /// Bytes of template text read (the template and its partials).
    var templateBytes: Int
}

/// Where partials come from: the step's own `partials` first, then `<name>.mustache` files.
struct PartialSource {
    var inline: [String: String]
    var store: TemplateStore?
}

/// Builds a `PreparedTemplate`.
///
/// The rewrites, each invisible in the output:
/// - every partial's body is wrapped in `{{#__jalm_enter_N}}` (own line, so it is standalone and
///   removed) ... `{{/__jalm_enter_N}}{{__jalm_leave}}`, in the delimiters in force at its end. The
///   budget answers the section with false past `max_partial_depth`, which ends a recursion through
///   partials before swift-mustache (which has no limit) overflows the stack;
/// - in strict mode, each variable tag is preceded by `{{__jalm_var_N}}`, which prints nothing and
///   tells the budget which tag the next lookups are for;
/// - a template written with other delimiters starts with `{{=<% %>=}}` on a line of its own.
///
/// Fail-closed: the library holds only wrapped partials, so a partial tag this scanner missed still
/// renders guarded; a wrapper whose closing tag uses wrong delimiters does not parse.
enum TemplatePreparer {
    static func prepare(template: String, label rootLabel: String, delimiters: (String, String)?, partials source: PartialSource,
                        strict: Bool, limits: RenderLimits, maxTemplateBytes: Int) throws(CallFailure) -> PreparedTemplate {
        var total = template.utf8.count
        guard total <= maxTemplateBytes else {
            throw CallFailure(.resourceExhausted,
                              "the template is \(total) bytes, over max_template_bytes (\(maxTemplateBytes))",
                              details: ["size": .int(Int64(total)), "limit": .int(Int64(maxTemplateBytes)),
                                        "reason": "max_template_bytes"])
        }
        let open = delimiters?.0 ?? "{{", close = delimiters?.1 ?? "}}"
        var strictTags: [StrictTag] = []
        var bodies: [String: Int] = [:]
        var largest = 0
        func scanned(_ text: String, _ label: String, inline: Bool) throws(CallFailure) -> TemplateScan {
            try refuseReserved(text, label)
            let scan: TemplateScan
            do {
                scan = try TemplateScanner.scan(text, open: inline ? open : "{{", close: inline ? close : "}}",
                                                maxNesting: limits.maxSectionNesting)
            } catch {
                throw CallFailure(.invalidInput, "\(label), line \(error.line): \(error.message)",
                                  details: ["template": .string(label), "line": .int(Int64(error.line))])
            }
            bodies.merge(scan.sectionBodies) { max($0, $1) }
            largest = max(largest, scan.largestBody)
            return scan
        }

        let rootScan = try scanned(template, rootLabel, inline: true)
        var pending = rootScan.partialNames
        var order: [String] = []
        var texts: [String: (text: String, scan: TemplateScan, inline: Bool)] = [:]
        while !pending.isEmpty {
            let partial = pending.removeFirst()
            if texts[partial] != nil { continue }
            guard texts.count < limits.maxPartials else {
                throw CallFailure(.resourceExhausted, "the template uses more than max_partials (\(limits.maxPartials)) partials",
                                  details: ["limit": .int(Int64(limits.maxPartials)), "reason": "max_partials"])
            }
            let label = "partial \"\(partial)\""
            let text: String
            let inline: Bool
            if let given = source.inline[partial] {
                text = given
                inline = true
                guard total + text.utf8.count <= maxTemplateBytes else {
                    throw CallFailure(.resourceExhausted,
                                      "\(label) does not fit in what is left of max_template_bytes (\(maxTemplateBytes) bytes)",
                                      details: ["limit": .int(Int64(maxTemplateBytes)), "reason": "max_template_bytes"])
                }
            } else if let store = source.store {
                text = try store.read(partial + ".mustache", limit: maxTemplateBytes - total, what: label)
                inline = false
            } else {
                throw CallFailure(.notFound, "\(label) is not in \"partials\" and there is no templates folder",
                                  details: ["partial": .string(partial)])
            }
            total += text.utf8.count
            let scan = try scanned(text, label, inline: inline)
            texts[partial] = (text, scan, inline)
            order.append(partial)
            pending += scan.partialNames
        }

        var library = MustacheLibrary()
        var table: [(name: String, bytes: Int)] = []
        for (index, partial) in order.enumerated() {
            let (text, scan, inline) = texts[partial]!
            var body = strict ? marked(text, scan, "partial \"\(partial)\"", &strictTags) : text
            var prefixLines = 1
            if inline && delimiters != nil {
                body = "{{=\(open) \(close)=}}\n" + body
                prefixLines += 1
            }
            // The closing tag is read with the delimiters in force at the end of the body; after it,
            // swift-mustache is back to the ones outside the section: `{{ }}`.
            let wrapped = "{{#\(Guard.enter)\(index)}}\n" + body
                + "\(scan.finalOpen)/\(Guard.enter)\(index)\(scan.finalClose){{\(Guard.leave)}}"
            library.register(try parse(wrapped, "partial \"\(partial)\"", prefixLines: prefixLines), named: partial)
            table.append((partial, text.utf8.count))
        }
        var rootText = strict ? marked(template, rootScan, rootLabel, &strictTags) : template
        var rootPrefix = 0
        if delimiters != nil {
            rootText = "{{=\(open) \(close)=}}\n" + rootText
            rootPrefix = 1
        }
        let root = try parse(rootText, rootLabel, prefixLines: rootPrefix)
        return PreparedTemplate(root: root, library: library, partials: table, strictTags: strictTags,
                                sectionBodies: bodies, largestBody: largest, templateBytes: total)
    }

    /// The custom delimiters of `text` ("<% %>"), or why they cannot be used.
    static func delimiters(_ text: String) -> Result<(String, String), Refusal> {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2 else { return .failure(Refusal("must be two markers separated by a space, like \"<% %>\"")) }
        let (open, close) = (String(parts[0]), String(parts[1]))
        if open.contains("=") || close.contains("=") { return .failure(Refusal("must not contain \"=\"")) }
        if open.contains("{{") || close.contains("{{") { return .failure(Refusal("must not contain \"{{\"")) }
        if open.utf8.count > 8 || close.utf8.count > 8 { return .failure(Refusal("markers are at most 8 bytes each")) }
        return .success((open, close))
    }

    struct Refusal: Error { var why: String; init(_ w: String) { why = w } }

    /// `text` with `{{__jalm_var_N}}` before each variable tag (in the delimiters in force there).
    private static func marked(_ text: String, _ scan: TemplateScan, _ label: String,
                               _ tags: inout [StrictTag]) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 32 * scan.tags.count)
        var copied = 0
        for tag in scan.tags where tag.kind == .variable || tag.kind == .unescaped {
            out += bytes[copied..<tag.range.lowerBound]
            out += Array("\(tag.open)\(Guard.variable)\(tags.count)\(tag.close)".utf8)
            tags.append(StrictTag(name: tag.name, template: label, line: tag.line))
            copied = tag.range.lowerBound
        }
        out += bytes[copied...]
        return String(decoding: out, as: UTF8.self)
    }

    private static func refuseReserved(_ text: String, _ label: String) throws(CallFailure) {
        guard text.contains(Guard.prefix) else { return }
        throw CallFailure(.invalidInput, "\(label) contains \"\(Guard.prefix)\", a prefix the layer reserves for its own tags",
                          details: ["template": .string(label)])
    }

    private static func parse(_ text: String, _ label: String, prefixLines: Int) throws(CallFailure) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: text)
        } catch let error as MustacheTemplate.ParserError {
            let line = max(1, error.context.lineNumber - prefixLines)
            throw CallFailure(.invalidInput, "\(label), line \(line): \(error.error)",
                              details: ["template": .string(label), "line": .int(Int64(line))])
        } catch {
            throw CallFailure(.invalidInput, "\(label): \(error)", details: ["template": .string(label)])
        }
    }
}
