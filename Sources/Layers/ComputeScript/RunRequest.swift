import JALMWire

/// A `run` step's input, checked: `{language, code, input?, limits?, output?}`.
struct RunRequest: Sendable {
    enum OutputFormat: String, Sendable { case json, text }

    var language: String
    var interpreter: String
    var code: String
    /// `input` written as JSON: the script's stdin (and `main(input)`'s argument in python3).
    var stdin: String
    var limits: RunLimits
    var output: OutputFormat

    static func parse(_ input: JSONValue, settings: ScriptSettings, available: [String: String])
        throws(CallFailure) -> RunRequest
    {
        guard input.objectValue != nil else { throw bad("/", "the input must be an object") }
        guard let language = input["language"]?.stringValue else {
            throw bad("/language", "\"language\" is required: one of \(available.keys.sorted().joined(separator: ", "))")
        }
        guard let interpreter = available[language] else {
            let known = ScriptSettings.languages.contains(language)
            throw CallFailure(
                .invalidInput,
                known ? "language \"\(language)\" is not installed on this host (available: \(available.keys.sorted().joined(separator: ", ")))"
                      : "unknown language \"\(language)\"; available: \(available.keys.sorted().joined(separator: ", "))",
                details: ["pointer": "/language", "available": .array(available.keys.sorted().map { .string($0) })])
        }
        guard let code = input["code"]?.stringValue else { throw bad("/code", "\"code\" must be a string: the script") }
        guard code.utf8.count <= settings.maxCodeBytes else {
            throw CallFailure(.invalidInput, "/code is \(code.utf8.count) bytes, above max_code_bytes \(settings.maxCodeBytes)",
                              details: ["pointer": "/code", "limit": "max_code_bytes"])
        }
        guard !code.utf8.contains(0) || language == "python3" else {
            throw bad("/code", "a \(language) script cannot contain a NUL byte")
        }
        let stdin = JSONWriter.string(input["input"] ?? .object([:]))
        guard stdin.utf8.count <= settings.maxInputBytes else {
            throw CallFailure(.invalidInput, "/input is \(stdin.utf8.count) bytes as JSON, above max_input_bytes \(settings.maxInputBytes)",
                              details: ["pointer": "/input", "limit": "max_input_bytes"])
        }
        let limits = try RunLimits.parse(input["limits"], over: settings.defaults, maxima: settings.maxima, pointer: "/limits")
        var output = OutputFormat.json
        if let o = input["output"] {
            guard let s = o.stringValue, let f = OutputFormat(rawValue: s) else { throw bad("/output", "\"output\" must be \"json\" or \"text\"") }
            output = f
        }
        for key in input.objectValue!.keys where !["language", "code", "input", "limits", "output"].contains(key) {
            throw bad("/" + key, "unknown field \"\(key)\"")
        }
        return RunRequest(language: language, interpreter: interpreter, code: code, stdin: stdin, limits: limits, output: output)
    }

    private static func bad(_ pointer: String, _ message: String) -> CallFailure {
        CallFailure(.invalidInput, message, details: ["pointer": .string(pointer)])
    }

    /// The zygote's request line (`wallMs` already capped by the step's deadline).
    func zygoteMessage(id: UInt64, wallMs: Int64) -> JSONValue {
        var limits = self.limits
        limits.wallMs = wallMs
        return [
            "t": "run", "id": .int(Int64(id)), "language": .string(language), "interpreter": .string(interpreter),
            "code": .string(code), "input": .string(stdin), "limits": limits.zygoteJSON,
        ]
    }
}
