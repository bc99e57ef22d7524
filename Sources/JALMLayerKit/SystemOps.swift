import JALMWire

/// The diagnostic ops every layer answers (`sys.echo` is answered inline by LayerServer).
enum SystemOps {
    /// Sleeps `ms` milliseconds on a timer; a `cancel` ends it early with `cancelled`.
    static func sleep(_ input: JSONValue) async throws(CallFailure) -> JSONValue {
        guard let ms = input["ms"]?.intValue, ms >= 0, ms <= 3_600_000 else {
            throw CallFailure(.invalidInput, "\"ms\" must be an integer from 0 to 3600000",
                              details: ["pointer": "/ms"])
        }
        do {
            try await Task.sleep(for: .milliseconds(ms))
        } catch {
            throw CallFailure(.cancelled, "sleep cancelled")
        }
        return ["slept_ms": .int(ms)]
    }
}
