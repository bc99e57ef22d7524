import JALMWire

/// Evaluates the keywords of `JSONSchema`; each function returns the first failure, or nil.
enum SchemaEvaluator {
    static func firstFailure(_ instance: JSONValue, _ schema: JSONValue, at pointer: JSONPointer) -> SchemaFailure? {
        switch schema {
        case .bool(true): return nil
        case .bool(false): return SchemaFailure(pointer: pointer, message: "no value is allowed here")
        case .object(let keywords): return evaluate(instance, keywords, at: pointer)
        default: return nil
        }
    }

    private static func evaluate(_ instance: JSONValue, _ s: [String: JSONValue], at pointer: JSONPointer)
        -> SchemaFailure?
    {
        let checks: [(JSONValue, [String: JSONValue], JSONPointer) -> SchemaFailure?] = [
            checkType, checkEnumAndConst, checkString, checkNumber, checkArray, checkObject, checkCombinators,
        ]
        for check in checks {
            if let failure = check(instance, s, pointer) { return failure }
        }
        return nil
    }

    static func fail(_ pointer: JSONPointer, _ message: String) -> SchemaFailure {
        SchemaFailure(pointer: pointer, message: message)
    }

    // MARK: type, enum, const

    static func checkType(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer) -> SchemaFailure? {
        let names: [String]
        switch s["type"] {
        case .string(let name)?: names = [name]
        case .array(let list)?: names = list.compactMap(\.stringValue)
        default: return nil
        }
        if names.contains(where: { hasType(instance, $0) }) { return nil }
        let article = names.count == 1 && ["array", "object", "integer"].contains(names[0]) ? "an" : "a"
        return fail(pointer, "must be \(article) \(names.joined(separator: " or ")), got \(instance.typeName)")
    }

    static func hasType(_ instance: JSONValue, _ name: String) -> Bool {
        switch (name, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("number", .int), ("number", .double), ("integer", .int):
            return true
        case ("integer", .double(let d)):
            return d.isFinite && d.rounded() == d
        default:
            return false
        }
    }

    static func checkEnumAndConst(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer)
        -> SchemaFailure?
    {
        if case .array(let options)? = s["enum"], !options.contains(where: { $0.matches(instance) }) {
            return fail(pointer, "must be one of \(options.map { JSONWriter.string($0) }.joined(separator: ", "))")
        }
        if let expected = s["const"], !expected.matches(instance) {
            return fail(pointer, "must be \(JSONWriter.string(expected, sortedKeys: true))")
        }
        return nil
    }

    // MARK: strings and numbers

    static func checkString(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer) -> SchemaFailure? {
        guard case .string(let text) = instance else { return nil }
        let length = text.unicodeScalars.count
        if let min = s["minLength"]?.intValue, length < min {
            return fail(pointer, "must be at least \(min) characters long, got \(length)")
        }
        if let max = s["maxLength"]?.intValue, length > max {
            return fail(pointer, "must be at most \(max) characters long, got \(length)")
        }
        if case .string(let pattern)? = s["pattern"] {
            guard let ok = SchemaRegexCache.shared.matches(pattern, text) else {
                return fail(pointer, "the schema's pattern \(pattern) is not a valid regular expression")
            }
            if !ok { return fail(pointer, "must match the pattern \(pattern)") }
        }
        return nil
    }

    static func checkNumber(_ instance: JSONValue, _ s: [String: JSONValue], _ pointer: JSONPointer) -> SchemaFailure? {
        guard let x = instance.doubleValue else { return nil }
        let bounds: [(String, (Double, Double) -> Bool, String)] = [
            ("minimum", { $0 >= $1 }, "at least"), ("maximum", { $0 <= $1 }, "at most"),
            ("exclusiveMinimum", { $0 > $1 }, "greater than"), ("exclusiveMaximum", { $0 < $1 }, "less than"),
        ]
        for (keyword, holds, words) in bounds {
            if let limit = s[keyword], let bound = limit.doubleValue, !holds(x, bound) {
                return fail(pointer, "must be \(words) \(JSONWriter.string(limit)), got \(JSONWriter.string(instance))")
            }
        }
        return nil
    }
}
