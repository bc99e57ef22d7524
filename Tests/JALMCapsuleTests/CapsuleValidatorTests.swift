import JALMCapsule
import JALMCore
import JALMWire
import Testing

@Suite struct CapsuleValidatorTests {
    let validator: CapsuleValidator

    init() throws {
        validator = CapsuleValidator(catalog: try CatalogFixture().load(),
                                     announcedOps: ["io-file.read", "io-file.write"])
    }

    func validate(_ steps: [(String, String, JSONValue)], vars: JSONValue? = nil) throws {
        try validator.validate(try CapsuleParser.parse(capsuleJSON(steps, vars: vars)))
    }

    @Test func validCapsulePasses() throws {
        try validate([("w", "io-file.write", ["path": "a", "content": "x"]), ("r", "io-file.read", ["path": "a"])])
    }

    @Test func unknownLayerPointsAtLayer() {
        expectInvalid(at: "/steps/0/layer", "layers are: io-file") {
            try validate([("a", "io-flie.read", ["path": "a"])])
        }
    }

    @Test func unknownOpPointsAtOpAndListsTheLayersOps() {
        expectInvalid(at: "/steps/0/op", "available ops: read, write") {
            try validate([("a", "io-file.reed", ["path": "a"])])
        }
    }

    @Test func opNotAnnouncedByThePluginIsRefused() throws {
        let partial = CapsuleValidator(catalog: validator.catalog, announcedOps: ["io-file.read"])
        let capsule = try CapsuleParser.parse(capsuleJSON([("w", "io-file.write", ["path": "a", "content": "x"])]))
        expectInvalid(at: "/steps/0/op", "not offered by the running io-file plugin; available ops: read") {
            try partial.validate(capsule)
        }
    }

    @Test func badInputPointsIntoTheInput() {
        expectInvalid(at: "/steps/0/input", "\"path\" is required") { try validate([("a", "io-file.read", [:])]) }
        expectInvalid(at: "/steps/0/input/path", "must be a string") {
            try validate([("a", "io-file.read", ["path": 3])])
        }
        expectInvalid(at: "/steps/0/input/pth", "unknown property") {
            try validate([("a", "io-file.read", ["path": "a", "pth": "b"])])
        }
    }

    @Test func templateToAnEarlierStepPasses() throws {
        try validate([("w", "io-file.write", ["path": "a", "content": "x"]),
                      ("r", "io-file.read", ["path": "{{ steps.w.output.path }}"])])
    }

    @Test func templateToALaterStepPointsAtTheString() {
        expectInvalid(at: "/steps/0/input/path", "does not run before this step") {
            try validate([("r", "io-file.read", ["path": "{{ steps.w.output.path }}"]),
                          ("w", "io-file.write", ["path": "a", "content": "x"])])
        }
    }

    @Test func templateToItsOwnStepIsRefused() {
        expectInvalid(at: "/steps/0/input/path", "step \"r\" which does not run before") {
            try validate([("r", "io-file.read", ["path": "{{ steps.r.output.path }}"])])
        }
    }

    @Test func templateToAMissingVarIsRefused() {
        expectInvalid(at: "/steps/0/input/path", "no var \"dir\"") {
            try validate([("r", "io-file.read", ["path": "{{ vars.dir }}/a"])], vars: ["other": 1])
        }
    }

    @Test func templateToAnExistingVarPasses() throws {
        try validate([("r", "io-file.read", ["path": "{{ vars.dir }}/a"])], vars: ["dir": "notes"])
    }

    @Test func anUndeclaredSecretIsRefused() {
        expectInvalid(at: "/steps/0/input/path", "does not declare") {
            try validate([("r", "io-file.read", ["path": "{{ secrets.key }}"])])
        }
    }

    @Test func templatedInputStillChecksKeysAndPlainMembers() {
        expectInvalid(at: "/steps/1/input", "\"content\" is required") {
            try validate([("r", "io-file.read", ["path": "a"]), ("w", "io-file.write", ["path": "{{ steps.r.output.x }}"])])
        }
        expectInvalid(at: "/steps/1/input/content", "must be a string") {
            try validate([("r", "io-file.read", ["path": "a"]),
                          ("w", "io-file.write", ["path": "{{ steps.r.output.x }}", "content": 5])])
        }
    }

    @Test func renderedInputIsValidatedAtRunTime() throws {
        let capsule = try CapsuleParser.parse(capsuleJSON([("r", "io-file.read", ["path": "{{ vars.p }}"])],
                                                          vars: ["p": 7]))
        try validator.validate(capsule)
        let step = capsule.steps[0]
        let rendered = try Template.render(step.input, context: TemplateContext(vars: capsule.vars),
                                           at: step.pointer.appending("input"))
        expectInvalid(at: "/steps/0/input/path", "must be a string, got integer") {
            try validator.validateInput(rendered, step: step)
        }
        try validator.validateInput(["path": "ok"], step: step)
    }
}
