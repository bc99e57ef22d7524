#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMWire
import Testing
@testable import jalm_layer_compute_script

func context() -> CallContext { CallContext(callID: 1, deadline: .now + .seconds(30)) }

/// Standard base64, for putting test modules into inputs.
func base64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }

@Suite struct WasmOpTests {
    let handler = ExprWasmHandler(settings: ExprWasmSettings(), wasmRoot: "/nonexistent-wasm-root")

    func call(_ wat: String, _ extra: [String: JSONValue] = [:]) async throws -> Result<JSONValue, CallFailure> {
        var input: [String: JSONValue] = ["module_base64": .string(base64(try WasmFixtures.binary(wat)))]
        for (k, v) in extra { input[k] = v }
        do { return .success(try await handler.handle(op: "wasm", input: .object(input), context: context())) } catch {
            return .failure(error)
        }
    }

    @Test func roundTripsJSON() async throws {
        let data: JSONValue = ["city": "Lyon", "n": [1, 2.5, nil, true], "s": "é\"\\"]
        let out = try await call(WasmFixtures.wrap, ["input": data]).get()
        #expect(out["output"] == ["got": data])
        #expect((out["fuel_used"]?.intValue ?? 0) > 0)
    }

    @Test func infiniteLoopIsStoppedByFuelPromptly() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let result = try await call(WasmFixtures.spin, ["fuel": 5_000_000])
        let elapsed = clock.now - started
        guard case .failure(let failure) = result else { Issue.record("the loop returned"); return }
        #expect(failure.code == .resourceExhausted)
        #expect(failure.details?["limit"] == "fuel" && failure.message.contains("fuel (5000000)"), "\(failure)")
        #expect(elapsed < .seconds(5), "fuel took \(elapsed)")
    }

    @Test func fuelEdge() async throws {
        // The wrap module's exact cost: that much passes, one less fails.
        let used = try await call(WasmFixtures.wrap, ["input": 1]).get()["fuel_used"]!.intValue!
        #expect(try await call(WasmFixtures.wrap, ["input": 1, "fuel": .int(used)]).get()["output"] == ["got": 1])
        guard case .failure(let f) = try await call(WasmFixtures.wrap, ["input": 1, "fuel": .int(used - 1)]) else {
            Issue.record("ran on less fuel than it used"); return
        }
        #expect(f.code == .resourceExhausted && f.details?["limit"] == "fuel")
    }

    @Test func memoryGrowthPastTheLimitFails() async throws {
        guard case .failure(let f) = try await call(WasmFixtures.grow, ["max_memory_pages": 4]) else {
            Issue.record("grew without limit"); return
        }
        #expect(f.code == .resourceExhausted && f.details?["limit"] == "max_memory_pages", "\(f)")
        #expect(f.message.contains("max_memory_pages (4 pages"))
    }

    @Test func initialMemoryAboveTheLimitFails() async throws {
        guard case .failure(let f) = try await call(WasmFixtures.bigMemory, ["max_memory_pages": 99]) else {
            Issue.record("instantiated 100 pages under a 99-page limit"); return
        }
        #expect(f.code == .resourceExhausted && f.details?["limit"] == "max_memory_pages", "\(f)")
        // At the edge it instantiates.
        #expect(try await call(WasmFixtures.bigMemory, ["max_memory_pages": 100]).get()["output"] == [:])
    }

    @Test func malformedModuleIsInvalidInput() async throws {
        for bytes: [UInt8] in [[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff], Array("hello".utf8), []] {
            let input: JSONValue = ["module_base64": .string(base64(bytes))]
            do {
                _ = try await handler.handle(op: "wasm", input: input, context: context())
                Issue.record("accepted \(bytes)")
            } catch {
                #expect(error.code == .invalidInput && error.details?["reason"] == "invalid_module", "\(error)")
            }
        }
        guard case .failure(let f) = try await handlerCall(["module_base64": "***"]) else { Issue.record("bad base64"); return }
        #expect(f.code == .invalidInput && f.message.contains("base64"))
        // The same base64 as every other layer: at most two padding characters.
        guard case .failure(let pad) = try await handlerCall(["module_base64": "AGFzbQ====="]) else { Issue.record("over-padded base64"); return }
        #expect(pad.code == .invalidInput && pad.message.contains("base64"))
    }

    @Test func abiFaultsAreNamed() async throws {
        for (wat, fragment) in [(WasmFixtures.importsClock, "imports wasi_snapshot_preview1.clock_time_get"),
                                (WasmFixtures.noABI, "must export memory, alloc"),
                                (WasmFixtures.notJSON, "output is not JSON")] {
            guard case .failure(let f) = try await call(wat) else { Issue.record("\(fragment) passed"); continue }
            #expect(f.code == .invalidInput && f.message.contains(fragment), "\(f)")
        }
    }

    @Test func limitsAboveTheLayerMaximumAreRefused() async throws {
        guard case .failure(let f) = try await call(WasmFixtures.wrap, ["fuel": 2_000_000_000]) else {
            Issue.record("accepted fuel above the maximum"); return
        }
        #expect(f.code == .invalidInput && f.message.contains("layers.compute-script.wasm.max_fuel"))
    }

    func handlerCall(_ input: JSONValue) async throws -> Result<JSONValue, CallFailure> {
        do { return .success(try await handler.handle(op: "wasm", input: input, context: context())) } catch {
            return .failure(error)
        }
    }

    /// A module from a file beneath the wasm root; `..`, absolute paths and symlinks out are refused.
    @Test func modulesFromFilesStayBeneathTheRoot() async throws {
        let base = "/tmp/expr-wasm-test-\(getpid())"
        defer { _ = system("rm -rf \(base)") }
        let root = base + "/wasm"
        #expect(system("mkdir -p \(root)/sub") == 0)
        let bytes = try WasmFixtures.binary(WasmFixtures.wrap)
        let fd = open(root + "/sub/wrap.wasm", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        _ = bytes.withUnsafeBytes { b in
            let outside = open(base + "/outside.wasm", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            defer { close(outside) }
            return write(outside, b.baseAddress!, b.count)
        }
        #expect(symlink(base + "/outside.wasm", root + "/link.wasm") == 0)
        let handler = ExprWasmHandler(settings: ExprWasmSettings(), wasmRoot: root)
        let out = try await handler.handle(op: "wasm", input: ["path": "sub/wrap.wasm", "input": [1]], context: context())
        #expect(out["output"] == ["got": [1]])
        for (path, code) in [("../outside.wasm", ErrorCode.invalidInput), ("/etc/passwd", .invalidInput),
                             ("link.wasm", .invalidInput), ("missing.wasm", .notFound), ("sub", .invalidInput)] {
            do {
                _ = try await handler.handle(op: "wasm", input: ["path": .string(path)], context: context())
                Issue.record("\(path) was read")
            } catch {
                #expect(error.code == code, "\(path): \(error)")
            }
        }
    }

    /// The step card's examples carry the wrap, spin and grow modules as base64: they must be these WAT
    /// sources, converted by the same wat2wasm.
    @Test func cardModulesAreTheseWAT() throws {
        let card = URLFreeFile.read(#filePath, up: 3, "kernel/step_cards/compute-script.wasm.yml")
        for (name, wat) in [("wrap", WasmFixtures.wrap), ("spin", WasmFixtures.spin), ("grow", WasmFixtures.grow)] {
            let encoded = base64(try WasmFixtures.binary(wat))
            #expect(card.contains(encoded), "the card lacks the \(name) module: \(encoded)")
        }
    }
}

/// Reads a repository file relative to this source file, without Foundation.
enum URLFreeFile {
    static func read(_ filePath: String, up: Int, _ relative: String) -> String {
        var parts = filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(up)
        let path = parts.joined(separator: "/") + "/" + relative
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
