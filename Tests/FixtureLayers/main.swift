#if canImport(Glibc)
import Glibc
#endif
import CHostileProbes
import JALMLayerKit
import JALMWire

// A plugin that misbehaves on purpose, for the end-to-end tests. The mode is the first argument;
// the layer name it claims is JALM_FIXTURE_LAYER (default "io-http").
let mode = CommandLine.arguments.dropFirst().first ?? "echo"
let layerName = LayerSetup.env("JALM_FIXTURE_LAYER") ?? "io-http"
let fd = LayerSetup.fromEnvironment().fd

func sendRaw(_ bytes: [UInt8]) {
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
}

func sendHello(protocolVersion: Int = wireProtocolVersion) {
    var out: [UInt8] = []
    // The ops the harness says the catalog routes here (JALM_FIXTURE_OPS), so the kernel accepts the hello
    // and the misbehaviour under test is the only fault.
    let listed = (LayerSetup.env("JALM_FIXTURE_OPS") ?? "").split(separator: ",").map(String.init)
    let ops = LayerKit.systemOps + listed.filter { !LayerKit.systemOps.contains($0) }
    LayerMessage.hello(Hello(layer: layerName, version: "fixture-\(mode)", ops: ops,
                             protocolVersion: protocolVersion, pid: getpid(), maxInflight: 8)).encodeFrame(into: &out)
    sendRaw(out)
}

/// Blocks until the kernel sends its first frame, then returns it whole (or exits on EOF).
func awaitFirstCall() -> UInt64 {
    var decoder = FrameDecoder()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n <= 0 { exit(0) }
        decoder.append(buf[0..<n])
        while let body = try? decoder.next() {
            if let msg = try? body.withUnsafeBufferPointer({ try KernelMessage.decode($0) }), case .call(let c) = msg {
                return c.id
            }
        }
    }
}

func sleepForever() -> Never {
    while true { sleep(3600) }  // clock_nanosleep: in every policy, unlike pause()
}

switch mode {
case "echo":
    await LayerKit.serve(layer: layerName, version: LayerSetup.env("JALM_FIXTURE_VERSION") ?? "fixture-echo") { _ in
        CatalogOps(SlowWriteHandler())
    }
case "slow-hello":
    // Greets only after JALM_FIXTURE_HELLO_DELAY_MS: readiness (systemd's READY=1) must wait for it.
    usleep(UInt32(LayerSetup.env("JALM_FIXTURE_HELLO_DELAY_MS").flatMap { UInt32($0) } ?? 2000) * 1000)
    await LayerKit.serve(layer: layerName, version: "fixture-slow-hello") { _ in CatalogOps(SlowWriteHandler()) }
case "hostile":
    await LayerKit.serve(layer: layerName, version: "fixture-hostile") { _ in CatalogOps(HostileHandler()) }
case "crash-on-start":
    exit(3)
case "no-hello":
    sleepForever()
case "wrong-protocol":
    sendHello(protocolVersion: 99)
    sleepForever()
case "oversize-frame":
    sendHello()
    _ = awaitFirstCall()
    sendRaw([0x80, 0, 0, 0])  // announces 2^31 bytes
    sleepForever()
case "malformed-frame":
    sendHello()
    _ = awaitFirstCall()
    var out: [UInt8] = []
    Frame.encode(Array("{not json".utf8), into: &out)
    sendRaw(out)
    sleepForever()
case "unknown-reply":
    sendHello()
    let id = awaitFirstCall()
    var out: [UInt8] = []
    LayerMessage.ok(id: id + 1_000_000, output: .null, meta: nil).encodeFrame(into: &out)
    sendRaw(out)
    sleepForever()
case "violate-on-call":
    // Greets like a good plugin, then breaks its seccomp policy on its first call (bpf is in no policy).
    sendHello()
    _ = awaitFirstCall()
    _ = jalm_probe_bpf_prog_load()
    exit(0)
case "crash-on-call":
    sendHello()
    _ = awaitFirstCall()
    exit(9)
case "ignore-cancel", "deaf":
    // Greets, then never answers anything (calls, cancels, pings): the kernel must kill it.
    sendHello()
    while true {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n <= 0 { exit(0) }
    }
default:
    printToStandardError("unknown fixture mode \(mode)")
    exit(64)
}

/// A test-only op with `side_effect: write` that takes `ms` to finish: the recovery tests kill the
/// kernel while it is in flight.
struct SlowWriteHandler: LayerHandler {
    var ops: [String] { ["test.slow_write"] }
    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let ms = input["ms"]?.intValue ?? 0
        do { try await Task.sleep(for: .milliseconds(ms)) } catch { throw CallFailure(.cancelled, "cancelled") }
        // The key it was called with, so that a test can see a re-run after a crash carried the same one.
        return ["wrote": true, "idempotency_key": context.idempotencyKey.map { .string($0) } ?? .null]
    }
}

/// A fixture standing in for a layer must announce every op the catalog routes to that layer, or the
/// kernel refuses it: the harness names them in JALM_FIXTURE_OPS; they answer not_found if called.
struct CatalogOps<Inner: LayerHandler>: LayerHandler {
    let inner: Inner
    let extra: [String]

    init(_ inner: Inner) {
        self.inner = inner
        let listed = (LayerSetup.env("JALM_FIXTURE_OPS") ?? "").split(separator: ",").map(String.init)
        self.extra = listed.filter { !inner.ops.contains($0) && !LayerKit.systemOps.contains($0) }
    }

    var ops: [String] { inner.ops + extra }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        if extra.contains(op) { throw CallFailure(.notFound, "fixture stands in for \(op) but does not implement it") }
        return try await inner.handle(op: op, input: input, context: context)
    }
}
