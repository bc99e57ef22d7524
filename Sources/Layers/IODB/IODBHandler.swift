import JALMLayerKit
import JALMWire

/// The io-db layer: `query`, `exec` and `batch` on the databases its settings name.
///
/// The capsule names a database (`database`, default `main`); the settings say where it is. Every
/// write runs in one transaction; with the kernel's idempotency key (the kernel gives one to every
/// `write` step, the same for each attempt of the step) the key is recorded in that transaction, so a
/// retried attempt after an applied one returns the first result (`replayed: true`) and changes nothing.
public final class IODBHandler: LayerHandler {
    public let ops = ["query", "exec", "batch"]
    let databases: [String: any Database]

    /// - Parameters:
    ///   - config: `layers.io-db` of jalmd.yml, secrets resolved.
    ///   - dataDir: the daemon's data folder; SQLite files live in `<dataDir>/db`.
    public init(config: JSONValue, dataDir: String) throws {
        let settings = try DatabaseSettings.parse(config)
        var databases: [String: any Database] = [:]
        for (name, s) in settings {
            switch s.engine {
            case .sqlite: databases[name] = SQLiteDatabase(settings: s, directory: dataDir + "/db")
            case .postgres: databases[name] = PostgresDatabase(settings: s)
            }
        }
        self.databases = databases
    }

    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        let control = CallControl(deadline: context.deadline)
        let result: Result<JSONValue, CallFailure> = await withTaskCancellationHandler {
            do throws(CallFailure) { return .success(try await run(op: op, input: input, context: context, control: control)) }
            catch { return .failure(error) }
        } onCancel: {
            control.cancel()
        }
        return try result.get()
    }

    private func run(op: String, input: JSONValue, context: CallContext, control: CallControl) async throws(CallFailure) -> JSONValue {
        switch op {
        case "query":
            let i = try OpInput(op: op, input, allowed: ["database", "sql", "params", "max_rows", "max_bytes"])
            let db = try database(i)
            return try await db.query(try i.statement(), limits: try i.limits(), control: control)
        case "exec":
            let i = try OpInput(op: op, input, allowed: ["database", "sql", "params", "max_rows", "max_bytes"])
            let db = try database(i)
            let outcome = try await db.write([try i.statement()], limits: try i.limits(), idempotencyKey: context.idempotencyKey,
                                             commit: !context.dryRun, control: control) { results in results[0].json }
            return Self.mark(outcome, dryRun: context.dryRun)
        case "batch":
            let i = try OpInput(op: op, input, allowed: ["database", "statements", "max_rows", "max_bytes"])
            let db = try database(i)
            guard let list = i.fields["statements"]?.arrayValue else { throw i.invalid("statements", "must be an array of {sql, params}") }
            guard (1...OpInput.maxStatements).contains(list.count) else {
                throw i.invalid("statements", "must hold 1 to \(OpInput.maxStatements) statements")
            }
            var statements: [Statement] = []
            for (n, item) in list.enumerated() {
                statements.append(try OpInput(op: op, item, allowed: ["sql", "params"], pointer: "/statements/\(n)").statement())
            }
            let outcome = try await db.write(statements, limits: try i.limits(), idempotencyKey: context.idempotencyKey,
                                             commit: !context.dryRun, control: control) { results in
                ["results": .array(results.map(\.json)), "rows_affected": .int(results.reduce(0) { $0 + $1.rowsAffected })]
            }
            return Self.mark(outcome, dryRun: context.dryRun)
        default:
            throw CallFailure(.notFound, "unknown op \"\(op)\" in io-db", details: ["op": .string(op)])
        }
    }

    private func database(_ i: OpInput) throws(CallFailure) -> any Database {
        let name = try i.string("database", default: "main")
        guard let db = databases[name] else {
            throw CallFailure(.notFound, "no database \"\(name)\" (configured: \(databases.keys.sorted().joined(separator: ", ")); declare it under layers.io-db.databases)",
                              details: ["pointer": "/database", "database": .string(name)])
        }
        return db
    }

    /// A write's output with `replayed` (and `dry_run` on a dry run).
    static func mark(_ outcome: WriteOutcome, dryRun: Bool) -> JSONValue {
        var (output, replayed): (JSONValue, Bool)
        switch outcome {
        case .applied(let o): (output, replayed) = (o, false)
        case .replayed(let o): (output, replayed) = (o, true)
        }
        guard case .object(var fields) = output else { return output }
        fields["replayed"] = .bool(replayed)
        if dryRun { fields["dry_run"] = true }
        output = .object(fields)
        return output
    }
}
