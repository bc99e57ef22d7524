import JALMWire

/// The three files of the catalog must agree; a disagreement names both sides.
enum CatalogCrossCheck {
    static func check(atoms: [Atom], layers: [LayerInfo], cards: [StepCard]) throws(CatalogError) {
        let layerNames = Set(layers.map(\.name))
        var cardsByName: [String: StepCard] = [:]
        for card in cards {
            let file = cardFile(card)
            guard cardsByName[card.qualifiedName] == nil else {
                throw CatalogError(file: file, "a second card for \(card.qualifiedName)")
            }
            cardsByName[card.qualifiedName] = card
            guard layerNames.contains(card.layer) else {
                throw CatalogError(file: file, field: "layer",
                                   "layer \(card.layer) is not in layers.json (it has \(layerNames.sorted().joined(separator: ", ")))")
            }
            guard atoms.contains(where: { $0.name == card.qualifiedName }) else {
                throw CatalogError(file: file, "\(card.qualifiedName) has no row in atoms.csv")
            }
        }
        for atom in atoms {
            try check(atom, against: cardsByName[atom.name])
        }
        for (i, layer) in layers.enumerated() {
            if let op = layer.defaultOp, cardsByName["\(layer.name).\(op)"] == nil {
                throw CatalogError(file: LayersFile.file, field: "/layers/\(i)/default_op",
                                   "\(layer.name) has no op \(op) (no step card step_cards/\(layer.name).\(op).yml)")
            }
        }
    }

    private static func check(_ atom: Atom, against card: StepCard?) throws(CatalogError) {
        let row = "atoms.csv line \(atom.line)"
        guard let card else {
            throw CatalogError(file: AtomsFile.file, field: "line \(atom.line)",
                               "\(atom.name) has no step card (expected step_cards/\(atom.name).yml)")
        }
        if card.sideEffect != atom.sideEffect {
            throw CatalogError(file: cardFile(card), field: "side_effect",
                               "the card says \(card.sideEffect.rawValue) but \(row) says \(atom.sideEffect.rawValue)")
        }
        if card.ioType != atom.ioType {
            throw CatalogError(file: cardFile(card), field: "io_type",
                               "the card says \(card.ioType) but \(row) says \(atom.ioType)")
        }
    }

    private static func cardFile(_ card: StepCard) -> String { "step_cards/\(card.qualifiedName).yml" }
}
