import JALMCore
import JALMWire

/// Checks a parsed capsule against the catalog and the ops the running plugins announced, before it runs.
public struct CapsuleValidator: Sendable {
    public var catalog: Catalog
    /// `layer.op` names the running plugins announced in their handshakes.
    public var announcedOps: Set<String>

    public init(catalog: Catalog, announcedOps: Set<String>) {
        self.catalog = catalog
        self.announcedOps = announcedOps
    }

    /// Every step's layer and op exist and are offered, every input without templates obeys its card,
    /// and every template refers to an earlier step or to an existing var.
    public func validate(_ capsule: Capsule) throws(RunnerError) {
        var earlier: Set<String> = []
        // Vars that set steps before this one assign: known by name now, by value only when they run.
        var setVars: Set<String> = []
        for step in capsule.steps {
            if step.isControl {
                try StepCondition.check(step, capsule: capsule, earlier: earlier, setVars: setVars)
                try checkReferences(step, capsule: capsule, earlier: earlier, setVars: setVars)
                if let values = step.set { setVars.formUnion(values.keys) }
                earlier.insert(step.id)
                continue
            }
            let card = try card(for: step)
            let inputPointer = step.pointer.appending("input")
            try StepCondition.check(step, capsule: capsule, earlier: earlier, setVars: setVars)
            if Template.containsTemplate(step.input) {
                try checkReferences(step, capsule: capsule, earlier: earlier, setVars: setVars)
                try TemplatedInput.check(step.input, schema: card.inputSchema, at: inputPointer)
            } else {
                try JSONSchema.validate(step.input, against: card.inputSchema, at: inputPointer)
            }
            earlier.insert(step.id)
        }
    }

    /// Checks a step's input once its templates are rendered, just before the call.
    public func validateInput(_ rendered: JSONValue, step: Step) throws(RunnerError) {
        try JSONSchema.validate(rendered, against: try card(for: step).inputSchema, at: step.pointer.appending("input"))
    }

    /// The card of a step whose layer is known and whose op is in the catalog and announced by its plugin.
    public func card(for step: Step) throws(RunnerError) -> StepCard {
        guard catalog.layer(named: step.layer) != nil else {
            let names = catalog.layers.map(\.name).joined(separator: ", ")
            throw invalid("unknown layer \"\(step.layer)\"; layers are: \(names)", at: step.pointer.appending("layer"))
        }
        guard let card = catalog.card(layer: step.layer, op: step.op), announcedOps.contains(step.qualifiedOp) else {
            let available = catalog.cards(inLayer: step.layer).map(\.op).filter {
                announcedOps.contains("\(step.layer).\($0)")
            }
            let list = available.isEmpty ? "none are running" : available.joined(separator: ", ")
            let why = catalog.card(layer: step.layer, op: step.op) == nil
                ? "layer \"\(step.layer)\" has no op \"\(step.op)\""
                : "op \"\(step.op)\" is not offered by the running \(step.layer) plugin"
            throw invalid("\(why); available ops: \(list)", at: step.pointer.appending("op"))
        }
        return card
    }

    private func checkReferences(_ step: Step, capsule: Capsule, earlier: Set<String>, setVars: Set<String>)
        throws(RunnerError)
    {
        let varsOnly = TemplateContext(vars: capsule.vars)
        for reference in try Template.references(in: step.templated.value, at: step.templated.pointer) {
            switch reference.root {
            case .steps(let id) where !earlier.contains(id):
                throw invalid("template \(reference.text) refers to step \"\(id)\" which does not run before this step",
                              at: reference.pointer)
            case .steps:
                break
            case .vars(let name) where setVars.contains(name):
                break  // assigned by an earlier set step: its value is known when that step has run
            case .vars:
                // Vars are known now, so a missing var or path is found before anything runs.
                _ = try Template.resolve(reference, in: varsOnly)
            case .secrets where step.isControl:
                throw invalid("template \(reference.text): \(step.set != nil ? "a set value" : "an abort message") is journaled, "
                              + "so it may not hold a secret", at: reference.pointer)
            case .secrets(let name) where !capsule.secretNames.contains(name):
                throw invalid("template \(reference.text) uses secret \"\(name)\", which the capsule does not declare "
                              + "in secrets: [...]", at: reference.pointer)
            case .secrets:
                break
            }
        }
    }
}
