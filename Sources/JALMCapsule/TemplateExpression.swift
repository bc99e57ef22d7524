import JALMWire

/// The grammar inside the braces: `steps.ID.output[PATH]`, `vars.NAME[PATH]`, where PATH is `.key` and `[N]` parts.
enum TemplateExpression {
    struct Parsed: Equatable {
        var root: TemplateReference.Root
        var path: [PathComponent]
    }

    /// The parsed expression, or the reason it is not one.
    /// `locals`: the loop names in scope (a foreach's item name and `index`), read as roots too.
    static func parse(_ expression: Substring, locals: Set<String> = []) -> Result<Parsed, TemplateScanner.ScanError> {
        var cursor = expression[...]
        let rootName = name(&cursor)
        switch rootName {
        case "steps":
            guard dot(&cursor), case let id = name(&cursor), !id.isEmpty else {
                return fail("expected steps.ID.output")
            }
            guard dot(&cursor), name(&cursor) == "output" else {
                return fail("expected steps.\(id).output: a template reads a step's output")
            }
            return path(&cursor).map { Parsed(root: .steps(String(id)), path: $0) }
        case "vars":
            guard dot(&cursor), case let varName = name(&cursor), !varName.isEmpty else {
                return fail("expected vars.NAME")
            }
            return path(&cursor).map { Parsed(root: .vars(String(varName)), path: $0) }
        case "secrets":
            guard dot(&cursor), case let secretName = name(&cursor), !secretName.isEmpty else {
                return fail("expected secrets.NAME")
            }
            guard cursor.isEmpty else { return fail("a secret is a string: secrets.NAME takes no path") }
            return .success(Parsed(root: .secrets(String(secretName)), path: []))
        case let name where locals.contains(String(name)):
            return path(&cursor).map { Parsed(root: .local(String(name)), path: $0) }
        default:
            if !locals.isEmpty {
                return fail("unknown template root \"\(rootName)\"; a template starts with steps.ID.output, vars.NAME, "
                            + "secrets.NAME or, here, \(locals.sorted().joined(separator: " or "))")
            }
            return fail("unknown template root \"\(rootName)\"; a template starts with steps.ID.output, vars.NAME or secrets.NAME")
        }
    }

    /// Only names, dots, brackets, digits and `-` (no spaces, no operators): written as a path, so its
    /// path error stands.
    static func looksLikePath(_ expression: Substring) -> Bool {
        expression.utf8.allSatisfy { b in
            (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x5F || b == 0x2E || b == 0x5B || b == 0x5D || b == 0x2D
        }
    }

    private static func fail(_ message: String) -> Result<Parsed, TemplateScanner.ScanError> {
        .failure(TemplateScanner.ScanError(message: message))
    }

    /// Characters that end a name: the path punctuation, and anything that cannot be in a plain key.
    private static func endsName(_ c: Character) -> Bool {
        c == "." || c == "[" || c == "]" || c.isWhitespace || c == "{" || c == "}"
    }

    private static func name(_ cursor: inout Substring) -> Substring {
        let n = cursor.prefix { !endsName($0) }
        cursor = cursor.dropFirst(n.count)
        return n
    }

    private static func dot(_ cursor: inout Substring) -> Bool {
        guard cursor.first == "." else { return false }
        cursor = cursor.dropFirst()
        return true
    }

    private static func path(_ cursor: inout Substring) -> Result<[PathComponent], TemplateScanner.ScanError> {
        var components: [PathComponent] = []
        while let c = cursor.first {
            if c == "." {
                cursor = cursor.dropFirst()
                let key = name(&cursor)
                guard !key.isEmpty else { return .failure(.init(message: "empty key after \".\"")) }
                components.append(.key(String(key)))
            } else if c == "[" {
                cursor = cursor.dropFirst()
                let digits = cursor.prefix { $0.isASCII && $0.isNumber }
                cursor = cursor.dropFirst(digits.count)
                guard !digits.isEmpty, cursor.first == "]", let i = Int(digits) else {
                    return .failure(.init(message: "an index is written [N] with N a whole number"))
                }
                cursor = cursor.dropFirst()
                components.append(.index(i))
            } else {
                return .failure(.init(message: "unexpected \"\(c)\""))
            }
        }
        return .success(components)
    }
}
