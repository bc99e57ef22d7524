import JALMWire
import Mustache

/// A JSON object as swift-mustache sees it: its children are converted when looked up, and every
/// lookup reports to the render's budget (and to strict mode).
///
/// Names that begin with `__jalm_` are the layer's own guards (see `TemplatePreparer`); templates
/// that contain that prefix are refused, so data can never reach them.
final class MustacheScope: MustacheParent, MustacheCustomRenderable {
    let fields: [String: JSONValue]
    let budget: RenderBudget
    let isRoot: Bool

    init(_ fields: [String: JSONValue], budget: RenderBudget, isRoot: Bool = false) {
        self.fields = fields
        self.budget = budget
        self.isRoot = isRoot
    }

    func child(named name: String) -> Any? {
        if name.hasPrefix(Guard.prefix) { return Guard.answer(name, budget: budget) }
        guard !budget.tripped else { return nil }
        let value = fields[name]
        budget.observe(name, isRoot: isRoot, found: value != nil)
        guard let value else {
            budget.spend(0)
            return nil
        }
        return MustacheValue.make(value, listName: name, budget: budget)
    }

    /// `{{object}}` prints the object as compact JSON, as the kernel's own templates do.
    var renderText: String { MustacheValue.printed(.object(fields), budget: budget) }
    var isNull: Bool { false }
}

/// A JSON array: a Mustache list whose iterator reports each element to the budget and stops when it trips.
/// It is a `MustacheParent` with no children so that swift-mustache never reflects on it (`{{#xs.items}}`
/// would otherwise loop over the raw array outside the budget).
struct MustacheList: MustacheSequence, MustacheCustomRenderable, MustacheParent {
    let items: [JSONValue]
    let budget: RenderBudget
    /// The most template text one element can print (the largest body of a section of this name).
    let bodyBytes: Int

    func makeIterator() -> Iterator { Iterator(list: self) }

    struct Iterator: IteratorProtocol {
        let list: MustacheList
        var index = 0

        mutating func next() -> Any? {
            guard index < list.items.count, !list.budget.tripped else { return nil }
            let item = list.items[index]
            index += 1
            list.budget.spend(list.bodyBytes)
            return MustacheValue.make(item, listName: nil, budget: list.budget)
        }
    }

    func child(named name: String) -> Any? { nil }

    var renderText: String { MustacheValue.printed(.array(items), budget: budget) }
    var isNull: Bool { false }
}

/// JSON `null`: present (strict mode does not count it as missing), prints nothing, and is false in a section.
struct MustacheNull: MustacheCustomRenderable {
    var renderText: String { "" }
    var isNull: Bool { true }
}

enum MustacheValue {
    /// The Mustache value for `json`; scalars become Swift values (which swift-mustache escapes and
    /// whose transforms, like `uppercased`, work), their printed size is charged to the budget.
    static func make(_ json: JSONValue, listName: String?, budget: RenderBudget) -> Any {
        switch json {
        case .object(let fields):
            return MustacheScope(fields, budget: budget)
        case .array(let items):
            let body = listName.flatMap { budget.sectionBodies[$0] } ?? budget.largestBody
            return MustacheList(items: items, budget: budget, bodyBytes: body)
        case .string(let s):
            budget.spend(escapedSize(s))
            return s
        case .int(let i):
            budget.spend(20)
            return Int(i)
        case .double(let d):
            budget.spend(24)
            return d
        case .bool(let b):
            budget.spend(5)
            return b
        case .null:
            return MustacheNull()
        }
    }

    /// The size of `s` once HTML-escaped (the largest it can print).
    /// An object or array printed as a value: compact JSON, charged to the budget like any printed text.
    static func printed(_ json: JSONValue, budget: RenderBudget) -> String {
        let text = JSONWriter.string(json)
        budget.spend(escapedSize(text))
        return budget.tripped ? "" : text
    }

    static func escapedSize(_ s: String) -> Int {
        var n = 0
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "<"), UInt8(ascii: ">"): n += 4
            case UInt8(ascii: "&"), UInt8(ascii: "'"): n += 5
            case UInt8(ascii: "\""): n += 6
            default: n += 1
            }
        }
        return n
    }
}

/// The reserved names `TemplatePreparer` writes into templates, answered by the budget.
enum Guard {
    static let prefix = "__jalm_"
    /// `{{#__jalm_enter_N}}`: opens partial N's body (false once the depth limit or budget trips).
    static let enter = "__jalm_enter_"
    /// `{{__jalm_leave}}`: after partial body, prints nothing.
    static let leave = "__jalm_leave"
    /// `{{__jalm_var_N}}`: just before variable tag N in strict mode, prints nothing.
    static let variable = "__jalm_var_"

    static func answer(_ name: String, budget: RenderBudget) -> Any? {
        if name == leave {
            budget.leavePartial()
            return ""
        }
        if name.hasPrefix(enter), let i = Int(name.dropFirst(enter.count)) {
            return budget.enterPartial(i)
        }
        if name.hasPrefix(variable), let i = Int(name.dropFirst(variable.count)) {
            budget.beginVariable(i)
            return ""
        }
        return nil
    }
}
