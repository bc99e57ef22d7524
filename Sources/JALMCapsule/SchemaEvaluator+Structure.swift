import JALMWire

extension SchemaEvaluator {
    // MARK: arrays and objects

    static func checkArray(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer) -> SchemaFailure? {
        guard case .array(let items) = instance else { return nil }
        if let min = s["minItems"]?.intValue, items.count < min {
            return fail(pointer, "must have at least \(min) items, got \(items.count)")
        }
        if let max = s["maxItems"]?.intValue, items.count > max {
            return fail(pointer, "must have at most \(max) items, got \(items.count)")
        }
        if let itemSchema = s["items"] {
            for (i, item) in items.enumerated() {
                if let failure = firstFailure(item, itemSchema, at: pointer.appending(i)) { return failure }
            }
        }
        return nil
    }

    static func checkObject(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer) -> SchemaFailure? {
        guard case .object(let members) = instance else { return nil }
        if case .array(let required)? = s["required"] {
            for case .string(let key) in required where members[key] == nil {
                return fail(pointer, "\"\(key)\" is required")
            }
        }
        let properties = s["properties"]?.objectValue ?? [:]
        // Sorted so that the first failure reported is the same on every run.
        for key in members.keys.sorted() {
            let at = pointer.appending(key)
            if let propertySchema = properties[key] {
                if let failure = firstFailure(members[key]!, propertySchema, at: at) { return failure }
            } else if let additional = s["additionalProperties"] {
                if additional == .bool(false) { return fail(at, "unknown property \"\(key)\"") }
                if let failure = firstFailure(members[key]!, additional, at: at) { return failure }
            }
        }
        return nil
    }

    // MARK: combinators

    static func checkCombinators(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer)
        -> SchemaFailure?
    {
        if case .array(let all)? = s["allOf"] {
            for sub in all {
                if let failure = firstFailure(instance, sub, at: pointer) { return failure }
            }
        }
        if case .array(let any)? = s["anyOf"] {
            let failures = any.map { firstFailure(instance, $0, at: pointer) }
            if let first = failures.first, !failures.contains(where: { $0 == nil }) {
                let reason = first.map { ": the first alternative says \($0.message)" } ?? ""
                return fail(pointer, "must match at least one of the anyOf schemas\(reason)")
            }
        }
        if case .array(let one)? = s["oneOf"] {
            let matching = one.filter { firstFailure(instance, $0, at: pointer) == nil }.count
            if matching != 1 {
                return fail(pointer, "must match exactly one of the oneOf schemas, matches \(matching)")
            }
        }
        if let negated = s["not"], firstFailure(instance, negated, at: pointer) == nil {
            return fail(pointer, "must not match the \"not\" schema")
        }
        return nil
    }
}
