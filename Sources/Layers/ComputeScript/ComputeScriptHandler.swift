#if canImport(Glibc)
import Glibc
#endif
import JALMLayerKit
import JALMWire

/// The compute-script layer: `run` (python3, sh, node when installed) in a fresh confined process per
/// run, forked from a pre-initialised zygote (docs/layers.md, "compute-script").
struct ComputeScriptHandler: LayerHandler {
    let settings: ScriptSettings
    /// Language → interpreter path, for the interpreters present on this host.
    let available: [String: String]
    let pool: ZygotePool?

    var ops: [String] { ["run"] }

    init(setup: LayerSetup) throws {
        settings = try ScriptSettings.parse(setup.config)
        available = Languages.detect(settings.interpreters)
        guard let python = available["python3"] else {
            // The zygote is python3: without it no language can run; `run` answers so, clearly.
            printToStandardError("compute-script: no python3 at \(settings.interpreters["python3"] ?? "?"); `run` is unavailable")
            pool = nil
            return
        }
        try CgroupDelegation.prepare()
        let zygote = Languages.currentDirectory() + "/zygote.py"
        let config: JSONValue = [
            "data": .string(setup.dataDir),
            "read_only": .array(Languages.runReadOnly.map { .string($0) }),
            "read_write_files": ["/dev/null"],
            "defaults": settings.defaults.zygoteJSON,
        ]
        pool = ZygotePool(count: settings.concurrency, argv: [python, "-I", "-B", zygote, JSONWriter.string(config)])
    }

    func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        switch op {
        case "run": return try await run(input, context: context)
        default: throw CallFailure(.notFound, "unknown op \"\(op)\"")
        }
    }

    private func run(_ input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let request = try RunRequest.parse(input, settings: settings, available: pool == nil ? [:] : available)
        guard let pool else { throw CallFailure(.internal, "compute-script has no python3 zygote") }
        // Answer before the kernel's deadline: the pool leaves it 100 ms to carry the reply.
        let (reply, wallCapped) = await pool.run(request, deadline: context.deadline)
        return try RunOutcome.result(reply, request: request, wallCappedByDeadline: wallCapped)
    }
}
