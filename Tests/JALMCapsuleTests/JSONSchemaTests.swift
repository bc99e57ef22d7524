import JALMCapsule
import JALMCore
import JALMWire
import Testing

@Suite struct JSONSchemaTests {
    let at = JSONPointer(["steps", "0", "input"])

    func allows(_ instance: JSONValue, _ schema: JSONValue) -> Bool {
        JSONSchema.isValid(instance, against: schema)
    }

    @Test func typeAllowsAndDenies() {
        #expect(allows("x", ["type": "string"]))
        #expect(!allows(1, ["type": "string"]))
        #expect(allows(nil, ["type": ["string", "null"]]))
        #expect(!allows(true, ["type": ["string", "null"]]))
    }

    @Test func integerAcceptsWholeDoublesOnly() {
        #expect(allows(3, ["type": "integer"]) && allows(3.0, ["type": "integer"]))
        #expect(!allows(3.5, ["type": "integer"]))
    }

    @Test func numberAcceptsIntegers() {
        #expect(allows(3, ["type": "number"]) && allows(3.5, ["type": "number"]))
        #expect(!allows("3", ["type": "number"]))
    }

    @Test func typeMessageNamesBothTypes() {
        expectInvalid(at: "/steps/0/input", "must be a string, got integer") {
            try JSONSchema.validate(1, against: ["type": "string"], at: at)
        }
    }

    @Test func requiredNamesTheMissingKey() {
        #expect(allows(["path": "a"], ["required": ["path"]]))
        expectInvalid(at: "/steps/0/input", "\"path\" is required") {
            try JSONSchema.validate([:], against: ["type": "object", "required": ["path"]], at: at)
        }
    }

    @Test func propertiesAreCheckedAtTheirPointer() {
        let schema: JSONValue = ["properties": ["size": ["type": "integer"]]]
        #expect(allows(["size": 3], schema))
        expectInvalid(at: "/steps/0/input/size") { try JSONSchema.validate(["size": "3"], against: schema, at: at) }
    }

    @Test func additionalPropertiesFalseDeniesUnknownKeys() {
        let schema: JSONValue = ["properties": ["a": true], "additionalProperties": false]
        #expect(allows(["a": 1], schema))
        expectInvalid(at: "/steps/0/input/b", "unknown property") {
            try JSONSchema.validate(["a": 1, "b": 2], against: schema, at: at)
        }
    }

    @Test func additionalPropertiesSchemaAppliesToOtherKeys() {
        let schema: JSONValue = ["properties": ["a": true], "additionalProperties": ["type": "string"]]
        #expect(allows(["a": 1, "b": "x"], schema))
        #expect(!allows(["a": 1, "b": 2], schema))
    }

    @Test func itemsAreCheckedAtTheirIndex() {
        let schema: JSONValue = ["items": ["type": "string"]]
        #expect(allows(["a", "b"], schema))
        expectInvalid(at: "/steps/0/input/1") { try JSONSchema.validate(["a", 2], against: schema, at: at) }
    }

    @Test func minItemsAndMaxItems() {
        let schema: JSONValue = ["minItems": 1, "maxItems": 2]
        #expect(allows([1], schema) && allows([1, 2], schema))
        #expect(!allows([], schema) && !allows([1, 2, 3], schema))
    }

    @Test func enumAndConst() {
        #expect(allows("GET", ["enum": ["GET", "POST"]]) && !allows("PUT", ["enum": ["GET", "POST"]]))
        #expect(allows(1.0, ["const": 1]) && !allows(2, ["const": 1]))
    }

    @Test func inclusiveBounds() {
        let schema: JSONValue = ["minimum": 1, "maximum": 10]
        #expect(allows(1, schema) && allows(10, schema))
        #expect(!allows(0, schema) && !allows(10.5, schema))
    }

    @Test func exclusiveBounds() {
        let schema: JSONValue = ["exclusiveMinimum": 0, "exclusiveMaximum": 1]
        #expect(allows(0.5, schema))
        #expect(!allows(0, schema) && !allows(1, schema))
    }

    @Test func lengthsCountUnicodeScalars() {
        let schema: JSONValue = ["minLength": 2, "maxLength": 3]
        #expect(allows("éé", schema) && allows("日本語", schema))
        #expect(!allows("é", schema) && !allows("abcd", schema))
    }

    @Test func patternIsUnanchoredSearch() {
        #expect(allows("notes/a.txt", ["pattern": "\\.txt$"]) && allows("xaby", ["pattern": "ab"]))
        expectInvalid(at: "/steps/0/input", "pattern") {
            try JSONSchema.validate("a.csv", against: ["pattern": "\\.txt$"], at: at)
        }
    }

    @Test func anyOfNeedsOneMatch() {
        let schema: JSONValue = ["anyOf": [["type": "string"], ["type": "integer"]]]
        #expect(allows("x", schema) && allows(1, schema))
        #expect(!allows(true, schema))
    }

    @Test func oneOfNeedsExactlyOneMatch() {
        let schema: JSONValue = ["oneOf": [["type": "integer"], ["minimum": 5]]]
        #expect(allows(3, schema) && allows(5.5, schema))
        #expect(!allows(7, schema))
    }

    @Test func allOfNeedsEveryMatch() {
        let schema: JSONValue = ["allOf": [["type": "integer"], ["minimum": 5]]]
        #expect(allows(6, schema))
        #expect(!allows(4, schema))
    }

    @Test func notInverts() {
        #expect(allows(1, ["not": ["type": "string"]]) && !allows("x", ["not": ["type": "string"]]))
    }

    @Test func booleanSchemas() {
        #expect(allows(1, true) && !allows(1, false))
    }

    @Test func annotationsAreIgnored() {
        #expect(allows("x", ["type": "string", "format": "uri", "description": "d", "default": "y", "title": "t"]))
    }

    @Test func nestedFailureReportsTheDeepestPointer() {
        let schema: JSONValue = ["properties": ["rows": ["items": ["required": ["id"]]]]]
        expectInvalid(at: "/steps/0/input/rows/1", "\"id\" is required") {
            try JSONSchema.validate(["rows": [["id": 1], [:]]], against: schema, at: at)
        }
    }

    @Test func applyDefaultsFillsOnlyAbsentTopLevelKeys() {
        let schema: JSONValue = ["properties": ["encoding": ["default": "text"], "mode": ["default": "w"],
                                                "deep": ["properties": ["x": ["default": 1]]]]]
        let out = JSONSchema.applyDefaults(["mode": "a"], schema: schema)
        #expect(out == ["mode": "a", "encoding": "text"])
    }

    @Test func checkSchemaAcceptsTheSubset() throws {
        try JSONSchema.checkSchema(["type": "object", "properties": ["p": ["type": "string", "pattern": "^a"]],
                                    "required": ["p"], "additionalProperties": false,
                                    "anyOf": [true, ["type": "null"]], "items": ["enum": [1, 2]]])
    }

    @Test func checkSchemaRefusesUnknownKeywordsAndBadPatterns() {
        #expect(throws: JSONSchema.Problem.self) { try JSONSchema.checkSchema(["typo": 1]) }
        #expect(throws: JSONSchema.Problem.self) {
            try JSONSchema.checkSchema(["properties": ["p": ["pattern": "(unclosed"]]])
        }
        #expect(throws: JSONSchema.Problem.self) { try JSONSchema.checkSchema(["type": "text"]) }
        #expect(throws: JSONSchema.Problem.self) { try JSONSchema.checkSchema(["minLength": -1]) }
    }
}
