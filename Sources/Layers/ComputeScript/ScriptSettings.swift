import JALMWire

/// The compute-script layer's settings: `layers: {compute-script: {...}}` in jalmd.yml (docs/layers.md).
struct ScriptSettings: Sendable {
    /// Zygotes, so runs at once in one layer process; more wait for a free one.
    var concurrency: Int = 2
    /// Interpreter paths by language; a language whose interpreter is absent is not offered.
    var interpreters: [String: String] = ["python3": "/usr/bin/python3", "sh": "/bin/sh", "node": "/usr/bin/node"]
    /// Limits a step gets when it names none.
    var defaults = RunLimits.builtInDefaults
    /// The most a step may ask for.
    var maxima = RunLimits.builtInMaxima
    /// Largest script accepted, bytes.
    var maxCodeBytes = 256 * 1024
    /// Largest `input` accepted once written as JSON, bytes.
    var maxInputBytes = 4 * 1024 * 1024

    static let languages = ["python3", "sh", "node"]

    static func parse(_ config: JSONValue) throws(CallFailure) -> ScriptSettings {
        var s = ScriptSettings()
        let at = "layers.compute-script"
        if let n = config["concurrency"] {
            guard let v = n.intValue, (1...32).contains(v) else { throw bad("\(at).concurrency must be an integer from 1 to 32") }
            s.concurrency = Int(v)
        }
        if let map = config["interpreters"] {
            guard let o = map.objectValue else { throw bad("\(at).interpreters must map a language to a path") }
            for (lang, path) in o {
                guard ScriptSettings.languages.contains(lang), let p = path.stringValue, p.hasPrefix("/") else {
                    throw bad("\(at).interpreters.\(lang) must be one of \(languages.joined(separator: ", ")) with an absolute path")
                }
                s.interpreters[lang] = p
            }
        }
        s.maxima = try RunLimits.parse(config["maxima"], over: s.maxima, maxima: nil, pointer: "\(at).maxima")
        s.defaults = try RunLimits.parse(config["defaults"], over: s.defaults, maxima: nil, pointer: "\(at).defaults")
        // A default above its maximum would make every step that keeps the default fail: clamp it.
        for spec in RunLimits.specs {
            guard let p = spec.keyPath else { continue }
            s.defaults[keyPath: p] = min(s.defaults[keyPath: p], s.maxima[keyPath: p])
        }
        if let c = s.defaults.cpus, let m = s.maxima.cpus { s.defaults.cpus = min(c, m) }
        if let n = config["max_code_bytes"] {
            guard let v = n.intValue, (1...(16 << 20)).contains(v) else { throw bad("\(at).max_code_bytes must be from 1 to 16777216") }
            s.maxCodeBytes = Int(v)
        }
        if let n = config["max_input_bytes"] {
            guard let v = n.intValue, (2...(64 << 20)).contains(v) else { throw bad("\(at).max_input_bytes must be from 2 to 67108864") }
            s.maxInputBytes = Int(v)
        }
        return s
    }

    private static func bad(_ message: String) -> CallFailure { CallFailure(.invalidInput, message) }
}
