import JALMCapsule
import JALMCore
import JALMWire
import Testing

@Suite struct CatalogTests {
    @Test func loadsLayersAndCardsSorted() throws {
        let catalog = try CatalogFixture().load()
        #expect(catalog.layers.map(\.name) == ["io-file"])
        #expect(catalog.cards.map(\.qualifiedName) == ["io-file.read", "io-file.write"])
        let read = try #require(catalog.card(layer: "io-file", op: "read"))
        #expect(read.sideEffect == .read && read.ioType == "file" && read.defaultTimeoutMs == 10_000)
        #expect(catalog.card(layer: "io-file", op: "write")?.defaultTimeoutMs == 30_000)
        #expect(catalog.card(layer: "io-file", op: "nope") == nil)
    }

    @Test func examplesAreParsed() throws {
        let read = try #require(try CatalogFixture().load().card(layer: "io-file", op: "read"))
        #expect(read.examples.count == 2)
        #expect(read.examples[0].before == [.init(op: "write", input: ["path": "notes/a.txt", "content": "hello"])])
        #expect(read.examples[0].expectedOutput == ["content": "hello", "size": 5])
        #expect(read.examples[1].expectedError == .invalidInput && read.examples[1].expectedOutput == nil)
    }

    @Test func catalogJSONHasLayersAndOpsWithSchemas() throws {
        let json = try CatalogFixture().load().json
        #expect(json["layers"]?[0]?["name"] == "io-file")
        #expect(json["ops"]?[0]?["name"] == "io-file.read")
        #expect(json["ops"]?[0]?["input"]?["required"] == ["path"])
        #expect(json["ops"]?[0]?["examples"]?[1]?["error"] == "invalid_input")
    }

    @Test func atomWithoutCardIsAnError() throws {
        let error = try #require(try CatalogFixture.loadError(["step_cards/io-file.write.yml": nil]))
        #expect(error.file == "atoms.csv" && error.message.contains("io-file.write has no step card"))
    }

    @Test func cardWithoutAtomIsAnError() throws {
        let atoms = "name,layer,side_effect,io_type\nio-file.read,io-file,read,file\n"
        let error = try #require(try CatalogFixture.loadError(["atoms.csv": atoms]))
        #expect(error.file == "step_cards/io-file.write.yml" && error.message.contains("no row in atoms.csv"))
    }

    @Test func sideEffectMismatchNamesBothFiles() throws {
        let atoms = CatalogFixture.atoms.replacingOccurrences(of: "io-file.read,io-file,read", with: "io-file.read,io-file,none")
        let error = try #require(try CatalogFixture.loadError(["atoms.csv": atoms]))
        #expect(error.file == "step_cards/io-file.read.yml" && error.field == "side_effect")
        #expect(error.message.contains("atoms.csv line 2 says none") && error.message.contains("card says read"))
    }

    @Test func cardLayerMissingFromLayersJSONIsAnError() throws {
        let error = try #require(try CatalogFixture.loadError(["layers.json": #"{"layers":[{"name":"io-db"}]}"#]))
        #expect(error.field == "layer" && error.message.contains("not in layers.json"))
    }

    @Test func aLayersDefaultOpIsLoadedAndServed() throws {
        let layers = #"{"layers":[{"name":"io-file","default_op":"read"}]}"#
        let catalog = try CatalogFixture(["layers.json": layers]).load()
        #expect(catalog.defaultOps == ["io-file": "read"])
        #expect(catalog.json["layers"]?[0]?["default_op"] == "read")
    }

    @Test func aDefaultOpWithoutACardIsALoadError() throws {
        let layers = #"{"layers":[{"name":"io-file","default_op":"fetch"}]}"#
        let error = try #require(try CatalogFixture.loadError(["layers.json": layers]))
        #expect(error.file == "layers.json" && error.field == "/layers/0/default_op", "\(error)")
        #expect(error.message.contains("io-file has no op fetch"), "\(error)")
        let empty = try #require(try CatalogFixture.loadError(["layers.json": #"{"layers":[{"name":"io-file","default_op":""}]}"#]))
        #expect(empty.field == "/layers/0/default_op")
    }

    @Test func badPatternInACardIsALoadError() throws {
        let card = CatalogFixture.readCard.replacingOccurrences(of: #"pattern: "^[^/]""#, with: #"pattern: "([""#)
        let error = try #require(try CatalogFixture.loadError(["step_cards/io-file.read.yml": card]))
        #expect(error.field == "input/properties/path/pattern")
    }

    @Test func unknownSchemaKeywordInACardIsALoadError() throws {
        let card = CatalogFixture.writeCard.replacingOccurrences(of: "required: [path, content]", with: "requird: [path]")
        let error = try #require(try CatalogFixture.loadError(["step_cards/io-file.write.yml": card]))
        #expect(error.field == "input/requird")
    }

    @Test func exampleThatBreaksItsCardIsALoadError() throws {
        let card = CatalogFixture.readCard.replacingOccurrences(of: "input: {path: notes/a.txt}\n",
                                                                with: "input: {file: notes/a.txt}\n")
        let error = try #require(try CatalogFixture.loadError(["step_cards/io-file.read.yml": card]))
        #expect(error.field?.hasPrefix("examples/0") == true)
    }

    @Test func cardNamedAfterAnotherOpIsAnError() throws {
        let error = try #require(try CatalogFixture.loadError(["step_cards/io-file.write.yml": CatalogFixture.readCard]))
        #expect(error.message.contains("must be named after it"))
    }

    @Test func badAtomsHeaderIsAnError() throws {
        let error = try #require(try CatalogFixture.loadError(["atoms.csv": "name,layer\n"]))
        #expect(error.file == "atoms.csv" && error.field == "line 1")
    }

    @Test func missingFileNamesIt() throws {
        let error = try #require(try CatalogFixture.loadError(["layers.json": nil]))
        #expect(error.file == "layers.json")
    }
}

@Suite struct StepExampleTests {
    @Test func exactMatchAllowsEqualAndDeniesExtraKeys() {
        let example = StepExample(name: "e", input: [:], expectedOutput: ["a": 1])
        #expect(example.check(output: ["a": 1.0]) == nil)
        #expect(example.check(output: ["a": 1, "b": 2]) != nil)
    }

    @Test func subsetMatchIgnoresExtraKeysRecursively() {
        let example = StepExample(name: "e", input: [:], expectedOutput: ["a": ["b": 1]], matchSubset: true)
        #expect(example.check(output: ["a": ["b": 1, "c": 2], "d": 3]) == nil)
        #expect(example.check(output: ["a": ["b": 2]]) != nil)
    }

    @Test func errorExampleChecksTheCode() {
        let example = StepExample(name: "e", input: [:], expectedError: .notFound)
        #expect(example.check(error: .notFound) == nil)
        #expect(example.check(error: .timeout) != nil)
        #expect(example.check(output: [:]) != nil)
    }

    @Test func outputExampleDeniesAnError() {
        #expect(StepExample(name: "e", input: [:], expectedOutput: [:]).check(error: .internal) != nil)
    }
}
