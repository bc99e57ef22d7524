import JALMCore
import JALMWire

/// The capsule's JSON Schema (draft 2020-12), built from the parser's own key tables so that the two
/// cannot drift: every key the parser accepts has its schema here, and nothing else is allowed where the
/// parser refuses unknown keys (`CapsuleSchemaTests` checks both ways). Served at
/// `GET /schema/capsule.json`, printed by `jalm schema`, shipped as `schema/capsule.schema.json`.
///
/// It is the structural part of the checks, for editors and for tools in other languages; what needs the
/// catalog (ops, input schemas) or the expr parser (conditions) is checked by `jalm lint` / `POST /lint`.
public enum CapsuleSchema {
    public static let id = "urn:jalm:schema:capsule"

    public static var json: JSONValue {
        [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": .string(id),
            "title": "JALM capsule",
            "description": "A capsule for jalmd (docs/capsules.md), bare or wrapped as {\"jalm_config\": capsule}.",
            "anyOf": [
                ["$ref": "#/$defs/capsule"],
                ["type": "object", "required": [.string(CapsuleParser.wrapperKey)], "additionalProperties": false,
                 "properties": [CapsuleParser.wrapperKey: ["$ref": "#/$defs/capsule"]]],
            ],
            "$defs": [
                "capsule": object(CapsuleParser.topLevelKeys, capsuleProperties, required: ["steps"]),
                "step": step,
                "steps": steps,
                "step_or_include": stepOrInclude,
                "include_step": includeStep,
                "case": switchCase,
                "retry": object(RetryParser.keys, retryProperties, required: []),
                "compensate": object(StepParser.compensationKeys, stepProperties, required: ["layer"]),
                "expectation": expectation,
                "meta": meta,
                "duration": duration,
            ],
        ]
    }

    /// An object with exactly `keys`, each with its schema from `properties`.
    static func object(_ keys: Set<String>, _ properties: [String: JSONValue], required: [String]) -> JSONValue {
        var props: [String: JSONValue] = [:]
        for key in keys { props[key] = properties[key] ?? ["description": "(no schema written for this key)"] }
        return ["type": "object", "properties": .object(props), "required": .array(required.map(JSONValue.string)),
                "additionalProperties": false]
    }

    static let string: JSONValue = ["type": "string"]
    static let name: JSONValue = ["type": "string", "minLength": 1]

    static let capsuleProperties: [String: JSONValue] = [
        "intent": ["type": "string", "description": "What the capsule is for; default \"unnamed\"."],
        "vars": ["type": "object", "description": "Values for {{ vars.NAME }} templates."],
        "secrets": ["type": "array", "items": name, "description": "Secret names used as {{ secrets.NAME }}."],
        "steps": ["type": "array", "minItems": 1, "maxItems": .int(Int64(CapsuleParser.maxSteps)),
                  "items": ["$ref": "#/$defs/step_or_include"]],
        Include.key: ["type": "object", "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"],
                      "additionalProperties": ["type": "string", "pattern": "^[^/#]"],
                      "description": "Fragments by name: PATH#POINTER, PATH under <data>/capsules/ (docs/capsules.md, Include)."],
        "meta": ["$ref": "#/$defs/meta"],
        "description": ["type": "string"],
        "name": ["type": "string"],
    ]

    static let stepProperties: [String: JSONValue] = [
        "id": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"],
        "layer": name,
        "op": ["type": "string", "minLength": 1, "description": "Optional on a layer with a default op (io-http: request)."],
        "input": ["type": "object"],
        "timeout": ["$ref": "#/$defs/duration"],
        "retry": ["$ref": "#/$defs/retry"],
        "when": ["type": "string", "description": "A condition in the expr language (docs/expr.md)."],
        "on_error": ["anyOf": [["enum": ["fail", "continue"]],
                               ["type": "object", "required": ["steps"], "additionalProperties": false,
                                "properties": ["steps": ["$ref": "#/$defs/steps"]]]],
                     "description": "fail (default), continue, or a fallback {steps: [...]} that stands in for the step."],
        "compensate": ["$ref": "#/$defs/compensate"],
        "expected_outputs": ["type": "array", "items": ["$ref": "#/$defs/expectation"]],
        "set": ["type": "object", "minProperties": 1, "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"]],
        "abort": ["type": "object", "additionalProperties": false, "required": ["message"],
                  "properties": ["message": name,
                                 "code": ["enum": .array(ErrorCode.allCases.filter { $0 != .unknown }.map { .string($0.rawValue) })]]],
        "switch": ["type": "array", "minItems": 1, "items": ["$ref": "#/$defs/case"],
                   "description": "Cases {when, steps}, then an optional {default: steps}: the first that holds runs."],
        "foreach": ["anyOf": [["type": "array", "maxItems": .int(Int64(Foreach.maxItems))],
                              ["type": "string", "pattern": "\\{\\{"],
                              ["type": "object", "required": ["items_from"], "additionalProperties": false,
                               "properties": ["items_from": itemsFrom]]],
                    "description": "The items: a list, a template that gives one, or {items_from} to page through a read step."],
        "as": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$",
               "description": "The name an item is read by (default item)."],
        "concurrency": ["type": "integer", "minimum": 1, "maximum": .int(Int64(Foreach.maxConcurrency))],
        "fail_fast": ["type": "boolean"],
        "collect": ["type": "string", "description": "The id of a body step whose output each iteration gives."],
        "steps": ["$ref": "#/$defs/steps"],
        "parallel": ["type": "object", "minProperties": 1,
                     "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"],
                     "additionalProperties": ["$ref": "#/$defs/steps"]],
    ]

    /// `items_from: {step, page, key?}`.
    static let itemsFrom: JSONValue = [
        "type": "object", "required": ["step", "page"], "additionalProperties": false,
        "properties": ["step": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"],
                       "page": ["type": "integer", "minimum": 1, "maximum": .int(Int64(PageSource.maxPage))],
                       "key": name],
    ]

    /// A list of steps inside a block.
    static let steps: JSONValue = ["type": "array", "minItems": 1, "items": ["$ref": "#/$defs/step_or_include"]]

    /// An entry of a list of steps: a step, or `{include: NAME}`, which the fragment's steps replace.
    static let stepOrInclude: JSONValue = ["anyOf": [["$ref": "#/$defs/step"], ["$ref": "#/$defs/include_step"]]]

    /// `{include: NAME}`, alone: a name of the include map.
    static let includeStep: JSONValue = [
        "type": "object", "required": [.string(Include.key)], "additionalProperties": false,
        "properties": [Include.key: ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]{0,63}$",
                                     "description": "A name of the include map: its fragment's steps replace this step."]],
    ]

    /// A switch case: `{when, steps}` or `{default: steps}`.
    static var switchCase: JSONValue {
        ["oneOf": [
            ["type": "object", "required": ["when", "steps"], "additionalProperties": false,
             "properties": ["when": string, "steps": ["$ref": "#/$defs/steps"]]],
            ["type": "object", "required": [.string(BlockParser.defaultKey)], "additionalProperties": false,
             "properties": [BlockParser.defaultKey: ["$ref": "#/$defs/steps"]]],
        ]]
    }

    /// A step calls an op (it has a layer) or is a control step: `abort` or `set` (with id and when only).
    static var step: JSONValue {
        guard case .object(var o) = object(StepParser.keys, stepProperties, required: ["id"]) else { return .null }
        o["oneOf"] = [
            ["required": ["layer"], "not": ["anyOf": .array((["abort", "set"] + BlockParser.kinds).map { ["required": [.string($0)]] })],
             "propertyNames": ["not": ["enum": .array(BlockParser.companionKeys.sorted().map(JSONValue.string))]]],
            ["required": ["switch"], "propertyNames": ["enum": .array(BlockParser.switchStepKeys.sorted().map(JSONValue.string))]],
            ["required": ["foreach"], "propertyNames": ["enum": .array(BlockParser.foreachStepKeys.sorted().map(JSONValue.string))]],
            ["required": ["parallel"], "propertyNames": ["enum": .array(BlockParser.parallelStepKeys.sorted().map(JSONValue.string))]],
            ["required": ["abort"], "propertyNames": ["enum": .array(StepParser.abortStepKeys.sorted().map(JSONValue.string))]],
            ["required": ["set"], "propertyNames": ["enum": .array(StepParser.setStepKeys.sorted().map(JSONValue.string))]],
        ]
        return .object(o)
    }

    static let retryProperties: [String: JSONValue] = [
        "strategy": ["enum": ["backoff", "fixed", "none"]],
        "max": ["type": "integer", "minimum": 0, "maximum": .int(Int64(RetryParser.maxAttempts))],
        "base": ["$ref": "#/$defs/duration"],
        "factor": ["type": "number", "minimum": 1, "maximum": 1000],
        "max_delay": ["$ref": "#/$defs/duration"],
        "jitter": ["type": "number", "minimum": 0, "maximum": 1],
        "retry_on": ["type": "array", "items": ["enum": .array(ErrorCode.allCases.map { .string($0.rawValue) })]],
    ]

    static let expectationProperties: [String: JSONValue] = [
        "path": ["type": "string", "pattern": "^(/.*)?$", "description": "A JSON Pointer into the output."],
        "type": ["anyOf": [typeName, ["type": "array", "items": typeName, "minItems": 1]]],
        "pattern": string,
        "schema": ["type": ["object", "boolean"]],
        "expr": ["type": "string"],
        "message": name,
    ]

    static let typeName: JSONValue = ["enum": ["null", "boolean", "integer", "number", "string", "array", "object"]]

    static var expectation: JSONValue {
        guard case .object(var o) = object(OutputExpectation.keys, expectationProperties, required: []) else { return .null }
        o["anyOf"] = .array(["type", "pattern", "schema", "expr"].map { ["required": [.string($0)]] })
        return .object(o)
    }

    /// `meta` holds more than the limits (later issues' keys), so other keys are allowed.
    static let meta: JSONValue = [
        "type": "object",
        "properties": [
            "timeout": ["$ref": "#/$defs/duration"],
            "max_steps": ["type": "integer", "minimum": 1, "maximum": .int(Int64(ExecutionLimits.maxStepRunsCeiling))],
        ],
    ]

    /// Seconds as a number, or text such as 500ms, 30s, 5m, 1h (positive, at most 24 h: checked by lint).
    static let duration: JSONValue = [
        "anyOf": [
            ["type": "number", "exclusiveMinimum": 0],
            ["type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"],
        ],
    ]
}
