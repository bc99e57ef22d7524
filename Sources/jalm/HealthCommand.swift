import ArgumentParser
import JALMWire

/// `jalm health`: is the daemon up and able to run steps?
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that jalmd is up and its layers are ready.",
        discussion: """
            Exits 0 when jalmd answers ok, 1 when it reports itself unavailable (with the reasons), \
            3 when it cannot be reached: usable as a readiness probe.

            Example:
              jalm health && jalm run capsule.yml
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let api = global.api()
        let health = try api.raw("GET", "/health")
        guard health.status == 200 || health.status == 503 else {
            throw CLIFailure(status: health.status, body: JSONWriter.bytes(health.json))
        }
        if global.json {
            global.printJSON(health.json)
        } else {
            // Who answers is a nicety: do not let a slow `GET /` hold up a health probe.
            let about = try? global.api(extraTimeout: -25).get("/")
            print(Self.render(health.json, about: about))
        }
        if health.status != 200 { throw CLIFailure.silent(1) }
    }

    static func render(_ health: JSONValue, about: JSONValue?) -> String {
        var head = health["status"]?.stringValue ?? "unknown"
        if let about {
            head += "  \(about["name"]?.stringValue ?? "jalmd") \(about["version"]?.stringValue ?? "")"
            if let up = about["uptime_s"]?.doubleValue { head += ", up \(Format.seconds(up))" }
        }
        var lines = [head]
        for reason in health["reasons"]?.arrayValue ?? [] { lines.append("  - " + Format.inline(reason)) }
        let layers = health["layers"]?.objectValue ?? [:]
        let rows = layers.keys.sorted().map { name -> [String] in
            let value = layers[name]!
            if let state = value["state"]?.stringValue {
                var rest = value.objectValue ?? [:]
                rest["state"] = nil
                return [name, state, rest.isEmpty ? "" : Format.inline(.object(rest))]
            }
            return [name, Format.inline(value), ""]
        }
        if !rows.isEmpty {
            lines.append("")
            lines.append(Format.table(["LAYER", "STATE", ""], rows).split(separator: "\n")
                .map { Format.truncate(String($0), to: Format.terminalWidth) }.joined(separator: "\n"))
        }
        return lines.joined(separator: "\n")
    }
}
