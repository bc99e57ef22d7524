import WAT

/// The test modules, in WAT; converted with WasmKit's own `wat2wasm` (the WAT library) at test time, so
/// no binary is committed and no tool beyond the package is needed. The step cards carry the same
/// modules as base64; `WasmOpTests.cardModulesAreTheseWAT` checks they are these sources.
enum WasmFixtures {
    /// Answers `{"got": <input>}`: a bump allocator from 4096, the output written after the input.
    static let wrap = #"""
    (module
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 4096))
      (data (i32.const 0) "{\"got\":")
      (func (export "alloc") (param $len i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (global.get $next) (local.get $len)))
        (local.get $p))
      (func (export "run") (param $ptr i32) (param $len i32) (result i64)
        (local $out i32)
        (local.set $out (global.get $next))
        (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
        (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
        (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 7)) (local.get $len)) (i32.const 125))
        (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
                (i64.extend_i32_u (i32.add (local.get $len) (i32.const 8))))))
    """#

    /// `run` never returns.
    static let spin = #"""
    (module
      (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "run") (param i32 i32) (result i64)
        (loop $forever (br $forever))
        (i64.const 0)))
    """#

    /// `run` grows memory a page at a time until growth fails, then traps.
    static let grow = #"""
    (module
      (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "run") (param i32 i32) (result i64)
        (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        unreachable))
    """#

    /// Asks for 100 pages up front, answers `{}`.
    static let bigMemory = #"""
    (module
      (memory (export "memory") 100)
      (data (i32.const 0) "{}")
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "run") (param i32 i32) (result i64) (i64.const 2)))
    """#

    /// Returns bytes that are not JSON ("nope").
    static let notJSON = #"""
    (module
      (memory (export "memory") 1)
      (data (i32.const 0) "nope")
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "run") (param i32 i32) (result i64) (i64.const 4)))
    """#

    /// Imports a host function, which the op does not provide.
    static let importsClock = #"""
    (module
      (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
      (memory (export "memory") 1))
    """#

    /// Lacks `alloc`.
    static let noABI = #"""
    (module (memory (export "memory") 1) (func (export "run") (param i32 i32) (result i64) (i64.const 0)))
    """#

    static func binary(_ wat: String) throws -> [UInt8] { try wat2wasm(wat) }
}
