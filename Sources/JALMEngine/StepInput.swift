import JALMCapsule
import JALMCore
import JALMWire

/// A step's call input: its templates rendered over the vars, the outputs so far and the capsule's secrets
/// (read now, so that a rotation applies at once), then checked against the op's input schema. A failure
/// points into the capsule and never shows a secret's value.
enum StepInput {
    struct Prepared {
        var input: JSONValue
        /// Masks the secrets this call could see out of what it returns.
        var mask: SecretMask
    }

    static func prepare(_ step: PlanStep, vars: [String: JSONValue], outputs: [String: JSONValue],
                        locals: [String: JSONValue] = [:], patch: JSONValue? = nil, secretNames: [String],
                        secrets: any SecretSource) throws(RunnerError) -> Prepared {
        var context = TemplateContext(vars: vars, stepOutputs: outputs, locals: locals)
        context.secrets = try values(of: secretNames, from: secrets)
        let mask = SecretMask(context.secrets)
        let at = step.step.pointer.appending("input")
        do {
            var input = try Template.render(step.input, context: context)
            if let patch { input = input.merging(patch) }
            if !step.inputChecked || patch != nil { try JSONSchema.validate(input, against: step.inputSchema, at: at) }
            return Prepared(input: input, mask: mask)
        } catch {
            throw mask.apply(error)
        }
    }

    /// The values of the secrets a capsule declares; a failure points at the name (`/secrets/N`).
    static func values(of names: [String], from secrets: any SecretSource) throws(RunnerError) -> [String: String] {
        var values: [String: String] = [:]
        for (i, name) in names.enumerated() {
            do { values[name] = try secrets.value(of: name) } catch {
                var error = error
                error.pointer = "/secrets/\(i)"
                throw error
            }
        }
        return values
    }
}
