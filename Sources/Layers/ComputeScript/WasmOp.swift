import JALMLayerKit
import JALMWire
import Synchronization
// `Store.resourceLimiter` is WasmKit 0.4.2's only hook on memory growth, and it sits behind the
// `Fuzzing` SPI (its own comment: "Consider making this public"). The alternative, reading the
// module's declared maximum, cannot stop `memory.grow` on a memory that declares none.
@_spi(Fuzzing) import WasmKit

/// compute-script `wasm`: runs a WebAssembly module with WasmKit under a fuel budget and a memory limit,
/// passing JSON in and out through the ABI of docs/layers.md:
///
/// - the module exports `memory`, `alloc(len: i32) -> i32` and `run(ptr: i32, len: i32) -> i64`;
/// - the host calls `alloc` with the input's length, writes the input JSON (UTF-8) there, calls `run`;
/// - `run` returns `(out_ptr << 32) | out_len`; the host reads that many bytes of JSON from memory.
///
/// The module gets no imports: no WASI, no clock, no files; a module that imports anything is refused.
/// Fuel covers `alloc` and `run` together; it is WasmKit's metering (about one unit per operator), so a
/// loop that never ends is stopped after `fuel` units, not by a timer.
enum WasmOp {
    /// One engine for every call: fuel metering on, software bounds checks (no 8 GiB reservation and
    /// no SIGSEGV handler to permit in the seccomp policy).
    static let engine = Engine(configuration: EngineConfiguration(memoryBoundsChecking: .software, fuelMetering: true))

    static func run(_ input: JSONValue, settings: ExprWasmSettings, wasmRoot: String, context: CallContext)
        throws(CallFailure) -> JSONValue
    {
        guard case .object(let object) = input else {
            throw CallFailure(.invalidInput, "input must be an object, got \(input.typeName)")
        }
        let fuel = try ExprWasmSettings.requested(
            input, "fuel", default: Int(settings.wasmDefaultFuel), maximum: Int(settings.wasmMaxFuel),
            setting: "layers.compute-script.wasm.max_fuel")
        let pages = try ExprWasmSettings.requested(
            input, "max_memory_pages", default: settings.wasmDefaultMemoryPages, maximum: settings.wasmMaxMemoryPages,
            setting: "layers.compute-script.wasm.max_memory_pages")
        let bytes = try WasmModuleSource.bytes(object, wasmRoot: wasmRoot, limit: settings.wasmMaxModuleBytes)
        let payload = JSONWriter.bytes(object["input"] ?? .null)
        let module: Module
        do { module = try parseWasm(bytes: bytes) } catch {
            throw CallFailure(.invalidInput, "the module is not valid WebAssembly: \(error)",
                              details: ["reason": "invalid_module"])
        }
        if let first = module.imports.first {
            throw CallFailure(.invalidInput, "the module imports \(first.module).\(first.name); the wasm op provides "
                + "no imports (no WASI)", details: ["reason": "imports"])
        }
        let limiter = WasmLimiter(maxBytes: pages * 65536)
        let store = Store(engine: engine)
        store.resourceLimiter = limiter
        store.fuel = Fuel(remaining: UInt64(fuel))
        var exhausted: CallFailure {
            CallFailure(.resourceExhausted, "the module used all its fuel (\(fuel)); raise fuel, at most "
                + "layers.compute-script.wasm.max_fuel (\(settings.wasmMaxFuel))",
                details: ["limit": "fuel", "fuel": .int(Int64(fuel))])
        }
        var overMemory: CallFailure {
            CallFailure(.resourceExhausted, "the module's memory would grow past max_memory_pages (\(pages) pages "
                + "of 64 KiB)", details: ["limit": "max_memory_pages", "max_memory_pages": .int(Int64(pages))])
        }
        do {
            let instance = try module.instantiate(store: store)
            guard let memory = instance.exports[memory: "memory"], let alloc = instance.exports[function: "alloc"],
                  let run = instance.exports[function: "run"]
            else {
                throw CallFailure(.invalidInput, "the module must export memory, alloc(i32) -> i32 and "
                    + "run(i32, i32) -> i64 (docs/layers.md)", details: ["reason": "abi"])
            }
            guard case .i32(let inPtr)? = try alloc([.i32(UInt32(payload.count))]).first else {
                throw abi("alloc must return one i32")
            }
            guard Int(inPtr) + payload.count <= memory.byteCount else {
                throw abi("alloc returned \(inPtr), which leaves no room for \(payload.count) bytes in memory")
            }
            if !payload.isEmpty {
                memory.withUnsafeMutableBufferPointer(offset: UInt(inPtr), count: payload.count) {
                    $0.copyBytes(from: payload)
                }
            }
            guard case .i64(let packed)? = try run([.i32(inPtr), .i32(UInt32(payload.count))]).first else {
                throw abi("run must return one i64: (out_ptr << 32) | out_len")
            }
            let outPtr = Int(packed >> 32)
            let outLen = Int(packed & 0xFFFF_FFFF)
            guard outLen <= settings.wasmMaxOutputBytes else {
                throw CallFailure(.resourceExhausted, "the module's output is \(outLen) bytes, more than "
                    + "max_output_bytes (\(settings.wasmMaxOutputBytes))", details: ["limit": "max_output_bytes"])
            }
            guard outPtr + outLen <= memory.byteCount else {
                throw abi("run returned bytes \(outPtr)..<\(outPtr + outLen), outside the memory (\(memory.byteCount) bytes)")
            }
            let out = memory.withUnsafeBufferPointer(offset: UInt(outPtr), count: outLen) { Array($0) }
            let output: JSONValue
            do { output = try JSONParser.parse(out) } catch {
                throw CallFailure(.invalidInput, "the module's output is not JSON: \(error)",
                                  details: ["reason": "output_not_json"])
            }
            let used = UInt64(fuel) - (store.fuel?.remaining ?? 0)
            return ["output": output, "fuel_used": .int(Int64(used))]
        } catch let failure as CallFailure {
            throw failure
        } catch {
            if limiter.exceeded { throw overMemory }
            let text = "\(error)"
            if text.contains("out of fuel") { throw exhausted }
            if text.contains("initial memory size exceeds") { throw overMemory }
            throw CallFailure(.invalidInput, "the module trapped: \(text.split(separator: "\n").first ?? "")",
                              details: ["reason": "trap"])
        }
    }

    private static func abi(_ message: String) -> CallFailure {
        CallFailure(.invalidInput, "ABI: \(message) (docs/layers.md)", details: ["reason": "abi"])
    }
}

/// Refuses memory growth past the step's page limit, and remembers that it did so that the failure is
/// reported as the limit it is, not as whatever trap the module hits next.
final class WasmLimiter: ResourceLimiter {
    let maxBytes: Int
    private let refused = Mutex(false)

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    var exceeded: Bool { refused.withLock { $0 } }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard desired <= maxBytes else {
            refused.withLock { $0 = true }
            throw MemoryLimitReached(desired: desired)
        }
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool { desired <= 100_000 }

    struct MemoryLimitReached: Error { var desired: Int }
}
