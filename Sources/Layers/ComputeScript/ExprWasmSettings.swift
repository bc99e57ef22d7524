import JALMExpr
import JALMLayerKit
import JALMWire

/// The layer's maxima for `expr` and `wasm`, from `layers.compute-script` in jalmd.yml
/// (`LayerSetup.config`); docs/layers.md lists every key. A step may ask for less, never for more.
struct ExprWasmSettings: Sendable, Equatable {
    /// The most a step's `max_steps` / `max_memory_bytes` may ask, and the source and depth bounds.
    var exprMaxima = ExprLimits(maxSteps: 10_000_000, maxMemoryBytes: 64 << 20, maxSourceBytes: 64 << 10, maxDepth: 128)
    /// What a step gets when it asks for nothing: the standard budgets, the maxima's source and depth.
    var exprDefaults = ExprLimits(maxSteps: ExprLimits.standard.maxSteps, maxMemoryBytes: ExprLimits.standard.maxMemoryBytes,
                                  maxSourceBytes: 64 << 10, maxDepth: 128)

    /// Fuel (about one unit per WebAssembly operator) a step gets by default and at most.
    var wasmDefaultFuel: UInt64 = 10_000_000
    var wasmMaxFuel: UInt64 = 1_000_000_000
    /// Linear memory in 64 KiB pages a module may have by default and at most.
    var wasmDefaultMemoryPages = 64
    var wasmMaxMemoryPages = 1024
    /// Largest module accepted (file or decoded base64), and largest JSON output read back.
    var wasmMaxModuleBytes = 8 << 20
    var wasmMaxOutputBytes = 4 << 20

    init() {}

    /// Reads `expr: {...}` and `wasm: {...}` of the layer's settings; a wrong value stops the plugin
    /// at start with a message naming the key, rather than being ignored.
    init(config: JSONValue) throws(SettingsError) {
        let expr = try Self.section(config, "expr")
        exprMaxima.maxSteps = try Self.positive(expr, "max_steps", exprMaxima.maxSteps)
        exprMaxima.maxMemoryBytes = try Self.positive(expr, "max_memory_bytes", exprMaxima.maxMemoryBytes)
        exprMaxima.maxSourceBytes = try Self.positive(expr, "max_source_bytes", exprMaxima.maxSourceBytes)
        exprMaxima.maxDepth = try Self.positive(expr, "max_depth", exprMaxima.maxDepth)
        exprDefaults.maxSteps = try Self.positive(expr, "default_steps", min(exprDefaults.maxSteps, exprMaxima.maxSteps))
        exprDefaults.maxMemoryBytes = try Self.positive(
            expr, "default_memory_bytes", min(exprDefaults.maxMemoryBytes, exprMaxima.maxMemoryBytes))
        exprDefaults.maxSourceBytes = exprMaxima.maxSourceBytes
        exprDefaults.maxDepth = exprMaxima.maxDepth
        let wasm = try Self.section(config, "wasm")
        wasmMaxFuel = UInt64(try Self.positive(wasm, "max_fuel", Int(wasmMaxFuel)))
        wasmDefaultFuel = UInt64(try Self.positive(wasm, "default_fuel", Int(min(wasmDefaultFuel, wasmMaxFuel))))
        wasmMaxMemoryPages = try Self.positive(wasm, "max_memory_pages", wasmMaxMemoryPages)
        guard wasmMaxMemoryPages <= 65536 else { throw SettingsError("wasm.max_memory_pages is at most 65536 (4 GiB)") }
        wasmDefaultMemoryPages = try Self.positive(wasm, "default_memory_pages", min(wasmDefaultMemoryPages, wasmMaxMemoryPages))
        wasmMaxModuleBytes = try Self.positive(wasm, "max_module_bytes", wasmMaxModuleBytes)
        wasmMaxOutputBytes = try Self.positive(wasm, "max_output_bytes", wasmMaxOutputBytes)
        for (name, value, maximum) in [("expr.default_steps", exprDefaults.maxSteps, exprMaxima.maxSteps),
                                       ("expr.default_memory_bytes", exprDefaults.maxMemoryBytes, exprMaxima.maxMemoryBytes),
                                       ("wasm.default_fuel", Int(wasmDefaultFuel), Int(wasmMaxFuel)),
                                       ("wasm.default_memory_pages", wasmDefaultMemoryPages, wasmMaxMemoryPages)]
        where value > maximum {
            throw SettingsError("\(name) (\(value)) is above its maximum (\(maximum))")
        }
    }

    private static func section(_ config: JSONValue, _ key: String) throws(SettingsError) -> [String: JSONValue] {
        switch config[key] {
        case nil, .null?: return [:]
        case .object(let o)?: return o
        case let v?: throw SettingsError("layers.compute-script.\(key) must be an object, got \(v.typeName)")
        }
    }

    private static func positive(_ section: [String: JSONValue], _ key: String, _ fallback: Int) throws(SettingsError) -> Int {
        guard let value = section[key] else { return fallback }
        guard let n = value.intValue, n > 0, n <= Int64(Int32.max) * 4 else {
            throw SettingsError("layers.compute-script \(key) must be a positive integer, got \(JSONWriter.string(value))")
        }
        return Int(n)
    }

    /// A per-step request for a budget: absent means the default; above the maximum is refused, naming it.
    static func requested(_ input: JSONValue, _ key: String, default value: Int, maximum: Int, setting: String)
        throws(CallFailure) -> Int
    {
        guard let raw = input[key], !raw.isNull else { return value }
        guard let n = raw.intValue, n > 0 else {
            throw CallFailure(.invalidInput, "\(key) must be a positive integer, got \(JSONWriter.string(raw))",
                              details: ["field": .string(key)])
        }
        guard n <= Int64(maximum) else {
            throw CallFailure(.invalidInput, "\(key) \(n) is above the layer's maximum \(maximum) (\(setting))",
                              details: ["field": .string(key), "maximum": .int(Int64(maximum))])
        }
        return Int(n)
    }
}

/// A layer setting that cannot be used; the plugin does not start.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
