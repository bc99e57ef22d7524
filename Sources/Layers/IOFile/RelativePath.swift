/// A path as a capsule gives it, split into the parent directory and the final component.
///
/// Nothing here decides confinement: that is `openat2(RESOLVE_BENEATH)`'s job. This only refuses
/// what can never be a valid path and finds the component the `*at` calls act on.
struct RelativePath: Sendable, Equatable {
    /// The path as given.
    let text: String
    /// Everything before the last component: `"."` when there is none, `"/"`-rooted when absolute
    /// (which `openat2` then refuses).
    let parent: String
    /// The last component, trailing slashes removed.
    let name: String

    /// Why `text` can never name a file, or nil.
    static func problem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        if text.utf8.contains(0) { return "contains a NUL byte" }
        if text.utf8.count > IOFileLimits.maxPathBytes {
            return "is longer than \(IOFileLimits.maxPathBytes) bytes"
        }
        return nil
    }

    init(_ text: String) {
        self.text = text
        var trimmed = Substring(text)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed == "/" {
            self.parent = "/"
            self.name = "."
        } else if let slash = trimmed.lastIndex(of: "/") {
            let head = trimmed[..<slash]
            self.parent = head.isEmpty ? "/" : String(head)
            self.name = String(trimmed[trimmed.index(after: slash)...])
        } else {
            self.parent = "."
            self.name = String(trimmed)
        }
    }

    /// True when the last component is `.` or `..`, which a mutating op cannot act on.
    var namesNoEntry: Bool { name == "." || name == ".." }
}
