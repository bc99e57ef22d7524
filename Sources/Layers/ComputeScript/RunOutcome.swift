import JALMWire

/// Turns the zygote's `done` line into the step's output or its error. Pure: every rule of what a run's
/// end means is here.
enum RunOutcome {
    static let sigsys: Int64 = 31

    static func result(_ reply: JSONValue, request: RunRequest, wallCappedByDeadline: Bool) throws(CallFailure) -> JSONValue {
        if reply["t"]?.stringValue == "error" {
            throw CallFailure(.internal, "compute-script could not run the script: \(reply["message"]?.stringValue ?? "?")")
        }
        let stderr = reply["stderr"]?.stringValue ?? ""
        let stderrTruncated = (reply["stderr_bytes"]?.intValue ?? 0) > Int64(stderr.utf8.count)
        var facts: [String: JSONValue] = [
            "stderr": .string(stderr), "stderr_truncated": .bool(stderrTruncated),
            "exit_code": reply["exit_code"] ?? .null, "cpu_ms": reply["cpu_ms"] ?? .null,
            "wall_ms": reply["wall_ms"] ?? .null, "pid": reply["pid"] ?? .null,
        ]
        if let peak = reply["memory_peak_bytes"], !peak.isNull { facts["memory_peak_bytes"] = peak }
        if let left = reply["leftover_pids"]?.arrayValue, !left.isEmpty { facts["leftover_pids_killed"] = .array(left) }
        if let setup = reply["setup_error"]?.stringValue, !setup.isEmpty {
            throw CallFailure(.internal, "the run's confinement failed before the script ran: \(setup)", details: .object(facts))
        }
        if let limit = reply["limit"]?.stringValue {
            throw failure(limit: limit, request: request, facts: facts, cappedByDeadline: wallCappedByDeadline)
        }
        if let signal = reply["signal"]?.intValue {
            facts["signal"] = .int(signal)
            if signal == sigsys {
                facts["reason"] = "syscall_denied"
                throw CallFailure(.sandboxViolation,
                                  "the script was killed by SIGSYS: it made a system call the compute-script sandbox denies",
                                  details: .object(facts))
            }
            facts["reason"] = "script_killed"
            throw CallFailure(.invalidInput, "the script was killed by signal \(signal)", details: .object(facts))
        }
        let stdout = reply["stdout"]?.stringValue ?? ""
        let code = reply["exit_code"]?.intValue ?? -1
        guard code == 0 else {
            facts["reason"] = "script_failed"
            facts["stdout"] = .string(String(stdout.prefix(4096)))
            let last = stderr.split(separator: "\n").last.map { ": " + $0 } ?? ""
            throw CallFailure(.invalidInput, "the script exited with status \(code)\(last)", details: .object(facts))
        }
        var out = facts
        switch request.output {
        case .text:
            out["text"] = .string(stdout)
        case .json:
            do {
                out["result"] = try JSONParser.parse(stdout)
            } catch {
                facts["reason"] = "stdout_not_json"
                facts["stdout"] = .string(String(stdout.prefix(4096)))
                throw CallFailure(.invalidInput,
                                  "the script's stdout is not JSON (\(error)); print one JSON value, or set output: text",
                                  details: .object(facts))
            }
        }
        return .object(out)
    }

    /// A run a limit ended: `timeout` for the wall clock, `resource_exhausted` for the rest, naming it.
    static func failure(limit: String, request: RunRequest, facts: [String: JSONValue], cappedByDeadline: Bool) -> CallFailure {
        var details = facts
        details["limit"] = .string(limit)
        details["value"] = request.limits.value(named: limit)
        switch limit {
        case "cancelled":
            return CallFailure(.cancelled, "the run was cancelled", details: .object(facts))
        case "wall_ms":
            if cappedByDeadline {
                details["reason"] = "step_deadline"
                return CallFailure(.timeout, "the script ran until the step's deadline", details: .object(details))
            }
            return CallFailure(.timeout, "the script ran past its wall-clock limit wall_ms = \(request.limits.wallMs)",
                               details: .object(details))
        case "memory_mb":
            return CallFailure(.resourceExhausted, "the script used more than its memory limit memory_mb = \(request.limits.memoryMB) and was killed",
                               details: .object(details))
        case "pids":
            return CallFailure(.resourceExhausted, "the script tried to run more than its process limit pids = \(request.limits.pids)",
                               details: .object(details))
        case "cpu_seconds":
            return CallFailure(.resourceExhausted, "the script used more than its CPU-time limit cpu_seconds = \(request.limits.cpuSeconds)",
                               details: .object(details))
        case "stdout_bytes":
            return CallFailure(.resourceExhausted, "the script wrote more than its stdout limit stdout_bytes = \(request.limits.stdoutBytes)",
                               details: .object(details))
        case "file_bytes":
            return CallFailure(.resourceExhausted, "the script wrote a file larger than its limit file_bytes = \(request.limits.fileBytes)",
                               details: .object(details))
        default:
            return CallFailure(.resourceExhausted, "the script reached its limit \(limit)", details: .object(details))
        }
    }
}
