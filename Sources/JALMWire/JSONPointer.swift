/// RFC 6901 JSON Pointers: where in a document something is (`/steps/2/input/path`).
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public init(_ tokens: [String] = []) { self.tokens = tokens }

    /// Parses `"/a/b~1c"`; the empty string is the whole document.
    public init?(parsing text: String) {
        if text.isEmpty { self.tokens = []; return }
        guard text.first == "/" else { return nil }
        self.tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences("~1", with: "/").replacingOccurrences("~0", with: "~")
        }
    }

    public static let root = JSONPointer()

    public func appending(_ token: String) -> JSONPointer {
        var p = self
        p.tokens.append(token)
        return p
    }

    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    public static func + (lhs: JSONPointer, rhs: JSONPointer) -> JSONPointer {
        JSONPointer(lhs.tokens + rhs.tokens)
    }

    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences("~", with: "~0").replacingOccurrences("/", with: "~1") }.joined()
    }

    /// The value this pointer names inside `document`, if any.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }
}

extension StringProtocol {
    /// A Foundation-free `replacingOccurrences`, so that the wire module needs no Foundation.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        let s = String(self)
        guard !target.isEmpty, s.contains(target) else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.firstRange(of: target) {
            out += rest[rest.startIndex..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
