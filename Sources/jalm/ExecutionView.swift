import JALMWire

/// Prints an execution view (`GET /exec/{id}`) for people: a header, a table of steps, then each
/// step's output and error, cut to the terminal's width.
struct ExecutionView {
    var json: JSONValue
    var width = Format.terminalWidth

    static let terminalStates: Set<String> = ["completed", "failed", "cancelled"]

    var id: String { json["id"]?.stringValue ?? "?" }
    var state: String { json["state"]?.stringValue ?? "?" }
    var isFinished: Bool { Self.terminalStates.contains(state) }

    func render() -> String {
        var lines = [header()]
        if let timing = timing() { lines.append(timing) }
        if let error = json["error"], !error.isNull {
            lines.append("error: " + Self.describe(error: error))
            if let pointer = error["pointer"]?.stringValue { lines.append("  at \(pointer)") }
        }
        let steps = json["steps"]?.arrayValue ?? []
        guard !steps.isEmpty else { return lines.joined(separator: "\n") }
        lines.append("")
        lines.append(Format.table(["STEP", "LAYER", "OP", "STATE", "ATTEMPTS", "DURATION"], steps.map(row)))
        let nameWidth = steps.map { ($0["id"]?.stringValue ?? "?").count }.max() ?? 0
        let detailLines = steps.flatMap { details($0, nameWidth: nameWidth) }
        if !detailLines.isEmpty { lines.append(""); lines.append(contentsOf: detailLines) }
        return lines.joined(separator: "\n")
    }

    private func header() -> String {
        var line = "\(id)  \(state)"
        if let intent = json["intent"]?.stringValue, !intent.isEmpty {
            line += "  " + Format.truncate(intent, to: max(20, width - line.count - 2))
        }
        return line
    }

    private func timing() -> String? {
        var parts: [String] = []
        if let created = json["created_at"]?.intValue { parts.append("created \(Format.relative(ms: created))") }
        if let started = json["started_at"]?.intValue { parts.append("started \(Format.relative(ms: started))") }
        if let finished = json["finished_at"]?.intValue { parts.append("finished \(Format.relative(ms: finished))") }
        if let duration = json["duration_ms"]?.intValue { parts.append("took \(Format.duration(ms: duration))") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    private func row(_ step: JSONValue) -> [String] {
        [
            step["id"]?.stringValue ?? "?", step["layer"]?.stringValue ?? "-", step["op"]?.stringValue ?? "-",
            step["state"]?.stringValue ?? "?", step["attempts"]?.intValue.map(String.init) ?? "-",
            Format.duration(ms: step["duration_ms"]?.intValue),
        ]
    }

    /// `<step>  output: …`, `<step>  error: …` and, when a step was tried more than once or a try
    /// failed, one line per attempt.
    private func details(_ step: JSONValue, nameWidth: Int) -> [String] {
        let id = step["id"]?.stringValue ?? "?"
        let name = id + String(repeating: " ", count: max(0, nameWidth - id.count))
        let pad = String(repeating: " ", count: name.count + 2)
        var lines: [String] = []
        if let output = step["output"], !output.isNull {
            lines.append(Format.truncate("\(name)  output: " + Format.inline(output), to: width))
        }
        if let error = step["error"], !error.isNull {
            lines.append(Format.truncate((lines.isEmpty ? "\(name)  " : pad) + "error: " + Self.describe(error: error),
                                         to: width))
        }
        let runs = step["runs"]?.arrayValue ?? []
        if runs.count > 1 || runs.contains(where: { $0["error"].map { !$0.isNull } ?? false }) {
            let prefix = lines.isEmpty ? "\(name)  " : pad
            for (i, run) in runs.enumerated() {
                lines.append(Format.truncate((i == 0 ? prefix : pad) + Self.describe(run: run), to: width))
            }
        }
        return lines
    }

    private static func describe(run: JSONValue) -> String {
        var parts = ["attempt \(run["attempt"]?.intValue.map(String.init) ?? "?")", run["state"]?.stringValue ?? "?"]
        if let pid = run["pid"]?.intValue { parts.append("pid \(pid)") }
        if let version = run["plugin_version"]?.stringValue { parts.append("v\(version)") }
        parts.append(Format.duration(ms: run["duration_ms"]?.intValue))
        if let error = run["error"], !error.isNull { parts.append(describe(error: error)) }
        return parts.joined(separator: "  ")
    }

    /// `code: message` for an error object, the text itself for a string.
    static func describe(error: JSONValue) -> String {
        if case .string(let text) = error { return text }
        let code = error["code"]?.stringValue
        let message = error["message"]?.stringValue ?? error["detail"]?.stringValue
        switch (code, message) {
        case (let code?, let message?): return "\(code): \(message)"
        case (let code?, nil): return code
        case (nil, let message?): return message
        case (nil, nil): return Format.inline(error)
        }
    }
}
