/// What JALMNet and its layers never show: credential-bearing header values and URL user info.
public enum Redaction {
    /// Headers whose values are credentials (exact names, and any name that says token/secret/key/auth).
    public static func isSensitive(_ headerName: String) -> Bool {
        let n = headerName.lowercased()
        if ["authorization", "proxy-authorization", "cookie", "set-cookie", "set-cookie2"].contains(n) { return true }
        return ["token", "secret", "api-key", "apikey", "auth", "password", "session", "signature"]
            .contains { n.contains($0) }
    }

    /// `[REDACTED]` in place of a sensitive header's value.
    public static func header(_ field: HeaderField) -> HeaderField {
        isSensitive(field.name) ? HeaderField(field.name, "[REDACTED]") : field
    }

    /// The URL without `user:password@` and without the query (where API keys often travel).
    public static func url(_ url: String) -> String {
        var s = Substring(url)
        if let q = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<q] }
        guard let schemeEnd = s.firstRange(of: "://") else { return String(s) }
        let afterScheme = s[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            return String(s[..<schemeEnd.upperBound]) + String(afterScheme[afterScheme.index(after: at)...])
        }
        return String(s)
    }
}
