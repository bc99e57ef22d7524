import JALMCore
import JALMWire

/// The ops the runner knows: layers, atoms and step cards from the `kernel/` directory.
public struct Catalog: Sendable {
    public private(set) var layers: [LayerInfo]
    /// Sorted by layer, then op.
    public private(set) var cards: [StepCard]
    private var index: [String: StepCard]

    /// A catalog from values already checked; `Catalog.load(directory:)` is the usual way in.
    public init(layers: [LayerInfo], cards: [StepCard]) {
        self.layers = layers
        self.cards = cards.sorted { ($0.layer, $0.op) < ($1.layer, $1.op) }
        self.index = Dictionary(cards.map { ($0.qualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func card(layer: String, op: String) -> StepCard? {
        index["\(layer).\(op)"]
    }

    public func layer(named name: String) -> LayerInfo? {
        layers.first { $0.name == name }
    }

    /// Each layer's default op, for steps that name none (`CapsuleParser.parse(_:defaultOps:)`).
    public var defaultOps: [String: String] {
        Dictionary(layers.compactMap { l in l.defaultOp.map { (l.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// The cards of one layer, sorted by op.
    public func cards(inLayer layer: String) -> [StepCard] {
        cards.filter { $0.layer == layer }
    }

    /// What `GET /catalog` serves: `{"layers": [...], "ops": [...]}`.
    public var json: JSONValue {
        ["layers": .array(layers.map(\.json)), "ops": .array(cards.map(\.json))]
    }
}

/// Why the catalog could not be loaded: which file, which field, what is wrong.
public struct CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file at fault, relative to the catalog directory (e.g. `step_cards/io-file.read.yml`).
    public var file: String
    /// The field at fault inside it, when there is one (e.g. `input/properties/path/pattern`).
    public var field: String?
    public var message: String

    public init(file: String, field: String? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.map { "\(file): \($0): \(message)" } ?? "\(file): \(message)"
    }
}
