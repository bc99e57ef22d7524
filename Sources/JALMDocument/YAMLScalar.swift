import JALMCore
import JALMWire
import Yams

/// Resolves YAML scalars by the YAML 1.2 core schema: only `true`/`false` are booleans, so `no` and `on`
/// stay strings (the "Norway problem" of YAML 1.1).
enum YAMLScalar {
    static func value(of scalar: Node.Scalar) throws(RunnerError) -> JSONValue {
        let text = scalar.string
        switch scalar.tag.rawValue {
        case "!", Tag.Name.str.rawValue:
            return .string(text)
        case "":
            return scalar.style == .plain ? try resolvePlain(text, scalar) : .string(text)
        case Tag.Name.int.rawValue, Tag.Name.float.rawValue, Tag.Name.bool.rawValue, Tag.Name.null.rawValue:
            return try resolvePlain(text, scalar)
        default:
            throw fail("unsupported YAML tag \(scalar.tag.rawValue)", scalar)
        }
    }

    static func resolvePlain(_ text: String, _ scalar: Node.Scalar) throws(RunnerError) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            throw fail("\(text) has no JSON form", scalar)
        default: break
        }
        if let i = integer(text) { return .int(i) }
        if isDecimal(text), let d = Double(text) { return .double(d) }
        return .string(text)
    }

    static func integer(_ text: String) -> Int64? {
        if text.hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0o") { return Int64(text.dropFirst(2), radix: 8) }
        return Int64(text)
    }

    /// `[-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?` without a regex engine.
    static func isDecimal(_ text: String) -> Bool {
        var s = Substring(text)
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        let mantissa = s.prefix { $0 != "e" && $0 != "E" }
        let exponent = s.dropFirst(mantissa.count)
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy(allDigits), !(parts.first?.isEmpty ?? true) || (parts.count == 2 && !parts[1].isEmpty)
        else { return false }
        guard !exponent.isEmpty else { return true }
        var e = exponent.dropFirst()
        if e.first == "-" || e.first == "+" { e = e.dropFirst() }
        return !e.isEmpty && allDigits(e)
    }

    private static func allDigits(_ s: Substring) -> Bool { s.allSatisfy { $0.isASCII && $0.isNumber } }

    private static func fail(_ message: String, _ scalar: Node.Scalar) -> RunnerError {
        let at = scalar.mark.map { "line \($0.line), column \($0.column): " } ?? ""
        return YAMLDocument.invalid("\(at)\(message)")
    }
}
