/// `{name}` placeholders in policy paths (`{data}/files`, `{swift_runtime}`).
enum Placeholders {
    /// The placeholder names used in `text`, in order.
    static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// `text` with every placeholder replaced, or nil when one has no value.
    static func resolve(_ text: String, _ values: [String: String]) -> String? {
        var out = text
        for name in names(in: text) {
            guard let value = values[name] else { return nil }
            out = out.replacingAll("{\(name)}", with: value)
        }
        return normalize(out)
    }

    /// Collapses `//` and drops a trailing `/`, so that one folder is one path (Landlock and the audit
    /// compare them).
    static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return path.hasPrefix("/") ? "/" + parts.joined(separator: "/") : parts.joined(separator: "/")
    }
}

extension String {
    /// Foundation-free replace, enough for placeholders.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
