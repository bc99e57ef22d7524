/// One lexical unit of an expression, with the byte offset it starts at.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case int(Int64)
        case double(Double)
        case string(String)
        case identifier(String)
        /// `$`, the root of the data.
        case dollar
        /// Operators and punctuation, spelled as written: `==`, `&&`, `(`, `=>`, ...
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int

    /// How the token reads in an error message.
    var text: String {
        switch kind {
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .string: "a string"
        case .identifier(let name): "\"\(name)\""
        case .dollar: "\"$\""
        case .symbol(let s): "\"\(s)\""
        case .end: "the end of the expression"
        }
    }
}
