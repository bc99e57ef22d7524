import JALMCapsule
import JALMCore

extension Runner {
    /// The submitted capsule with its fragments spliced in (`include:`), read from the runner's
    /// `FragmentSource`. This is what is planned and journaled, and what a key's replay compares: after a
    /// restart the journaled expansion is parsed again, never the fragment files. A capsule that includes
    /// nothing comes back as it was submitted, without a parse or a file read.
    func expandIncludes(body: [UInt8], contentType: String?) throws(RunnerError) -> IncludeExpansion {
        try IncludeExpansion.expand(body: body, contentType: contentType, from: fragments, limits: settings.includeLimits)
    }

    /// The plan of an expanded capsule, its faults told in terms of the submitted document.
    func plan(_ submitted: IncludeExpansion) throws(RunnerError) -> Plan {
        do {
            return try plan(body: submitted.body, contentType: submitted.contentType)
        } catch {
            throw submitted.explain(error)
        }
    }
}
