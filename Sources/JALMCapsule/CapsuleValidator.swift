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

    /// What a step may read where it stands: the steps that run before it, the vars earlier set steps
    /// assign, and the loop names of the foreach blocks it is in.
    struct Scope {
        var earlier: Set<String> = []
        var setVars: Set<String> = []
        var locals: Set<String> = []
    }

    /// Every step's layer and op exist and are offered, every input without templates obeys its card,
    /// and every template refers to an earlier step, an existing var or a loop name in scope.
    public func validate(_ capsule: Capsule) throws(RunnerError) {
        var scope = Scope()
        try validate(capsule.steps, capsule: capsule, scope: &scope)
    }

    private func validate(_ steps: [Step], capsule: Capsule, scope: inout Scope) throws(RunnerError) {
        for step in steps {
            try StepCondition.check(step, capsule: capsule, earlier: scope.earlier, setVars: scope.setVars,
                                    locals: scope.locals)
            if let block = step.block {
                try checkReferences(step, capsule: capsule, scope: scope)
                try validate(block, of: step, capsule: capsule, scope: &scope)
            } else if step.isControl {
                try checkReferences(step, capsule: capsule, scope: scope)
                if let values = step.set { scope.setVars.formUnion(values.keys) }
            } else {
                try validateCall(step, capsule: capsule, scope: scope)
            }
            if let fallback = step.onError.fallback {
                // It runs after the step failed: it may read the step's state and error, and after it, its
                // steps count as earlier (one that did not run has no output, a clear error when read).
                var inner = scope
                inner.earlier.insert(step.id)
                try validate(fallback, capsule: capsule, scope: &inner)
                scope.earlier.formUnion(inner.earlier)
                scope.setVars.formUnion(inner.setVars)
            }
            scope.earlier.insert(step.id)
            if let compensation = step.compensation {
                // It runs once the step ended ok, and reads its output.
                try validateCall(compensation.step(undoing: step), capsule: capsule, scope: scope)
            }
        }
    }

    /// A step that calls an op: the op is offered, and its input obeys the card (checked now when it has no
    /// template, its shape and references when it has).
    private func validateCall(_ step: Step, capsule: Capsule, scope: Scope) throws(RunnerError) {
        let card = try card(for: step)
        let inputPointer = step.pointer.appending("input")
        if Template.containsTemplate(step.input) {
            try checkReferences(step, capsule: capsule, scope: scope)
            try TemplatedInput.check(step.input, schema: card.inputSchema, at: inputPointer)
        } else {
            try JSONSchema.validate(step.input, against: card.inputSchema, at: inputPointer)
        }
    }

    /// A block's sequences, each in the scope before the block. After a switch or a parallel, the steps of
    /// its sequences count as earlier (one that did not run has no output, a clear error when read); the
    /// steps and vars of a foreach's body belong to its iterations and are not seen after it.
    private func validate(_ block: Block, of step: Step, capsule: Capsule, scope: inout Scope) throws(RunnerError) {
        switch block {
        case .switch(let cases):
            var after = scope
            for c in cases {
                if let when = c.when {
                    try StepCondition.check(when, of: step.id, at: c.pointer.appending("when"), capsule: capsule,
                                            earlier: scope.earlier, setVars: scope.setVars, locals: scope.locals)
                }
                var inner = scope
                try validate(c.steps, capsule: capsule, scope: &inner)
                after.earlier.formUnion(inner.earlier)
                after.setVars.formUnion(inner.setVars)
            }
            scope = after
        case .parallel(let branches, _):
            var after = scope
            for branch in branches {
                var inner = scope
                try validate(branch.steps, capsule: capsule, scope: &inner)
                after.earlier.formUnion(inner.earlier)
                after.setVars.formUnion(inner.setVars)
            }
            scope = after
        case .foreach(let f):
            if let source = f.source { try checkSource(source, of: f, capsule: capsule, scope: scope) }
            var inner = scope
            inner.locals.formUnion([f.itemName, Foreach.indexName])
            try validate(f.steps, capsule: capsule, scope: &inner)
        }
    }

    /// `items_from` names an earlier step of an op that pages, written so that it can be paged, and the
    /// loop keeps none of its iterations (so none of its steps may need one kept to be undone).
    private func checkSource(_ source: PageSource, of f: Foreach, capsule: Capsule, scope: Scope) throws(RunnerError) {
        let at = source.pointer.appending("step")
        guard scope.earlier.contains(source.step), let step = capsule.step(id: source.step) else {
            throw invalid("items_from names step \"\(source.step)\", which does not run before this foreach", at: at)
        }
        guard let kind = PageSource.protocols[step.qualifiedOp], !step.isControl else {
            let ops = PageSource.protocols.keys.sorted().joined(separator: " or ")
            throw invalid("items_from pages through \(ops); step \"\(step.id)\" is \(step.isControl ? "a control step" : step.qualifiedOp)",
                          at: at)
        }
        let sources = capsule.allSteps.compactMap { s -> PageSource? in
            if case .foreach(let g)? = s.block { return g.source } else { return nil }
        }
        guard sources.filter({ $0.step == source.step }).count == 1 else {
            throw invalid("step \"\(source.step)\" is the items_from of two foreach steps; each needs its own source step", at: at)
        }
        if kind == .keyset {
            guard case .object(let params)? = step.input["params"], params["after"] != nil else {
                throw invalid("an io-db.query paged by items_from takes named params with the first page's after, such as "
                              + "params: {after: 0}; its sql reads :after and :limit (WHERE id > :after ORDER BY id LIMIT :limit)",
                              at: step.pointer.appending("input").appending("params"))
            }
            if case .string(let sql)? = step.input["sql"], !Template.containsTemplate(.string(sql)),
               !(sql.contains(":after") && sql.contains(":limit")) {
                throw invalid("an io-db.query paged by items_from must read :after and :limit, such as "
                              + "SELECT ... WHERE id > :after ORDER BY id LIMIT :limit", at: step.pointer.appending("input").appending("sql"))
            }
        }
        for inner in f.steps.flatMap({ [$0] + $0.descendants }) where inner.compensation != nil {
            throw invalid("a step inside a foreach with items_from cannot compensate: the loop keeps no iteration once it "
                          + "ended, so nothing is left to undo it with", at: inner.pointer.appending("compensate"))
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

    private func checkReferences(_ step: Step, capsule: Capsule, scope: Scope) throws(RunnerError) {
        let varsOnly = TemplateContext(vars: capsule.vars)
        let (earlier, setVars) = (scope.earlier, scope.setVars)
        for reference in try Template.references(in: step.templated.value, at: step.templated.pointer,
                                                 locals: scope.locals) {
            switch reference.root {
            case .local:
                break  // a loop name in scope: the parse only accepts those
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
