import JALMWire
import Mustache

/// Renders a `PreparedTemplate` over JSON data within a budget, and turns a tripped budget, a strict
/// miss or an oversize result into the call's error.
enum MustacheRenderer {
    static func render(_ prepared: PreparedTemplate, data: [String: JSONValue], maxOutputBytes: Int,
                       maxPartialDepth: Int, deadline: ContinuousClock.Instant) throws(CallFailure) -> String {
        let budget = RenderBudget(
            estimateLimit: maxOutputBytes * 2, maxPartialDepth: maxPartialDepth, deadline: deadline,
            partials: prepared.partials, sectionBodies: prepared.sectionBodies, largestBody: prepared.largestBody,
            strictTags: prepared.strictTags)
        budget.spend(prepared.templateBytes)
        let scope = MustacheScope(data, budget: budget, isRoot: true)
        let html = prepared.root.render(scope, library: prepared.library)
        if let trip = budget.trip { throw failure(trip, maxOutputBytes: maxOutputBytes, maxPartialDepth: maxPartialDepth) }
        if let tag = budget.missing {
            throw CallFailure(.invalidInput,
                              "strict: variable \"\(tag.name)\" is missing from data (\(tag.template), line \(tag.line))",
                              details: ["variable": .string(tag.name), "template": .string(tag.template),
                                        "line": .int(Int64(tag.line)), "reason": "missing_variable"])
        }
        let size = html.utf8.count
        guard size <= maxOutputBytes else {
            throw CallFailure(.resourceExhausted, "the rendered HTML is \(size) bytes, over max_output_bytes (\(maxOutputBytes))",
                              details: ["size": .int(Int64(size)), "limit": .int(Int64(maxOutputBytes)),
                                        "reason": "max_output_bytes"])
        }
        return html
    }

    static func failure(_ trip: RenderBudget.Trip, maxOutputBytes: Int, maxPartialDepth: Int) -> CallFailure {
        switch trip {
        case .output(let estimate):
            return CallFailure(
                .resourceExhausted,
                "the render was stopped: it could print \(estimate) bytes or more, over max_output_bytes (\(maxOutputBytes))",
                details: ["limit": .int(Int64(maxOutputBytes)), "reason": "max_output_bytes"])
        case .partialDepth(let partial):
            return CallFailure(
                .resourceExhausted,
                "partials nest deeper than max_partial_depth (\(maxPartialDepth)) at partial \"\(partial)\": does it include itself?",
                details: ["partial": .string(partial), "limit": .int(Int64(maxPartialDepth)), "reason": "max_partial_depth"])
        case .deadline:
            return CallFailure(.timeout, "the render passed the step's deadline", details: ["reason": "deadline"])
        case .cancelled:
            return CallFailure(.cancelled, "cancelled by the kernel")
        }
    }
}
