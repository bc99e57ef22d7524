import ArgumentParser
import JALMWire

/// `jalm ls`: recent executions, newest first.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List executions, newest first.",
        discussion: """
            Pages are followed until --limit executions are listed.

            Examples:
              jalm ls
              jalm ls --state running
              jalm ls --state failed --limit 100 --json
            """)

    static let states = ["pending", "running", "completed", "failed", "cancelled"]

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp(
        "Only executions in this state: \(states.joined(separator: ", ")).", valueName: "state"))
    var state: String?

    @Option(name: .long, help: ArgumentHelp("List at most this many executions.", valueName: "n"))
    var limit = 20

    func validate() throws {
        if let state, !Self.states.contains(state) {
            throw ValidationError("--state must be one of \(Self.states.joined(separator: ", "))")
        }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() throws {
        let api = global.api()
        var items: [JSONValue] = []
        var cursor: String?
        repeat {
            var query = "limit=\(limit - items.count)"
            if let state { query += "&state=\(escape(state))" }
            if let cursor { query += "&cursor=\(escape(cursor))" }
            let page = try api.get("/exec?\(query)")
            let pageItems = page["items"]?.arrayValue ?? []
            items += pageItems.prefix(limit - items.count)
            cursor = page["next_cursor"]?.stringValue
            if pageItems.isEmpty { break }
        } while cursor != nil && items.count < limit
        if global.json {
            return global.printJSON(["items": .array(items), "next_cursor": cursor.map { .string($0) } ?? .null])
        }
        guard !items.isEmpty else { return print(state.map { "no \($0) executions" } ?? "no executions") }
        print(Format.table(["ID", "STATE", "CREATED", "DURATION", "INTENT"], items.map(row)))
    }

    private func row(_ item: JSONValue) -> [String] {
        let created = item["created_at"]?.intValue
        let finished = item["finished_at"]?.intValue
        let duration = created.flatMap { c in finished.map { $0 - c } }
        let id = item["id"]?.stringValue ?? "?"
        let fixed = id.count + 40
        return [
            id, item["state"]?.stringValue ?? "?", Format.relative(ms: created), Format.duration(ms: duration),
            Format.truncate(item["intent"]?.stringValue ?? "", to: max(20, Format.terminalWidth - fixed)),
        ]
    }
}
