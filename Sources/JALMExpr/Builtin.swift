/// The functions an expression may call. Arity and lambda positions are checked at parse time, so a
/// misspelt name or a missing lambda is a parse error with a position, not a runtime surprise.
enum Builtin: String, Sendable, CaseIterable {
    case len, lower, upper, trim, contains, starts_with, ends_with, split, join, substr, replace
    case string, number, abs, floor, ceil, round, type, keys, values, coalesce
    case map, filter, any, all, sum, min, max, sort

    /// Fewest and most arguments (nil: no upper bound).
    var arity: (min: Int, max: Int?) {
        switch self {
        case .len, .lower, .upper, .trim, .string, .number, .abs, .floor, .ceil, .round, .type, .keys, .values,
             .sum, .sort:
            (1, 1)
        case .min, .max: (1, nil)
        case .contains, .starts_with, .ends_with, .split, .join, .map, .filter, .any, .all: (2, 2)
        case .substr: (2, 3)
        case .replace: (3, 3)
        case .coalesce: (1, nil)
        }
    }

    /// Whether argument `index` must be a lambda (`x => ...`); no other argument may be one.
    func takesLambda(at index: Int) -> Bool {
        switch self {
        case .map, .filter, .any, .all: index == 1
        default: false
        }
    }

    var signature: String {
        switch self {
        case .map, .filter, .any, .all: "\(rawValue)(array, x => expression)"
        case .substr: "substr(string, start, length?)"
        case .replace: "replace(string, from, to)"
        case .min, .max: "\(rawValue)(array) or \(rawValue)(a, b, ...)"
        case .coalesce: "coalesce(a, b, ...)"
        default:
            arity.min == 1 ? "\(rawValue)(x)" : "\(rawValue)(a, b)"
        }
    }
}
