import Logging
import JALMExpr
import JALMSupervisor
import JALMWire

/// `expr` evaluations/s of a realistic condition over a 10-item order: in process (parsed once; and
/// parsed every time) next to the same logic hand-written in Swift over JSONValue (the floor), then
/// through the runner (supervisor → compute-script plugin → `expr`) next to `sys.echo` of the same input
/// on the same plugin (the dispatch floor).
enum ExprBench {
    static let source = "sum(map(filter($.items, x => x.qty > 0 && contains(lower(x.sku), 'a')), x => x.price * x.qty)) > 100"
        + " && $.customer.country == 'FR'"

    static let order: JSONValue = [
        "customer": ["id": 7, "country": "FR", "email": "ada@example.org"],
        "items": .array((0..<10).map { i in
            ["sku": .string(i % 2 == 0 ? "SKU-A\(i)" : "SKU-B\(i)"), "price": .double(9.5 + Double(i)), "qty": .int(Int64(i % 4))]
        }),
        "total": 240.5,
    ]

    /// The same decision, written by hand: the floor for in-process evaluation.
    static func native(_ o: JSONValue) -> Bool {
        var sum = 0.0
        for item in o["items"]?.arrayValue ?? [] {
            guard let qty = item["qty"]?.doubleValue, qty > 0,
                  item["sku"]?.stringValue?.lowercased().contains("a") == true,
                  let price = item["price"]?.doubleValue else { continue }
            sum += price * qty
        }
        return sum > 100 && o["customer"]?["country"]?.stringValue == "FR"
    }

    static func run(binDir: String, dataDir: String, seconds: Double) async throws {
        let expression = try Expression(parsing: source)
        let expected = native(order)
        guard try expression.evaluate(over: order) == .bool(expected) else { fatalError("expr and native disagree") }
        let usage = try expression.evaluateWithUsage(over: order).usage
        print("expr: \(source)")
        print("expr: \(usage.steps) steps, \(usage.memoryBytes) bytes built per evaluation")

        let nativeRate = rate(seconds) { _ = native(order) }
        let evalRate = rate(seconds) { _ = try? expression.evaluate(over: order) }
        let parseRate = rate(seconds) { _ = try? Expression(parsing: source).evaluate(over: order) }
        print("expr in process: native Swift \(fmt(nativeRate, 0))/s, evaluate \(fmt(evalRate, 0))/s "
            + "(\(fmt(nativeRate / evalRate, 1))x slower than native), parse+evaluate \(fmt(parseRate, 0))/s")
        print("RESULT expr_native_per_s \(fmt(nativeRate, 0))")
        print("RESULT expr_eval_per_s \(fmt(evalRate, 0))")
        print("RESULT expr_parse_eval_per_s \(fmt(parseRate, 0))")

        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let manifest = try LayerManifest.parse(
            ["name": "compute-script", "executable": "jalm-layer-compute-script", "pool": 1, "max_inflight": 1024],
            directory: binDir)
        let supervisor = try LayerSupervisor(
            manifest: manifest, settings: SupervisorSettings(binDirectory: binDir, dataDirectory: dataDir),
            requiredOps: ["expr"], logger: logger, recordEvent: { _, _ in })
        supervisor.start()
        // The ping loop and deadline sweep, which the kernel would run beside the supervisor.
        let loops = Task { try await SupervisorLoops(supervisor).run() }
        while !supervisor.isReady { try await Task.sleep(for: .milliseconds(5)) }
        let input: JSONValue = ["expr": .string(source), "data": order]
        let (check, _) = await supervisor.call(op: "expr", input: input, timeout: .seconds(10))
        guard case .ok(let out, _) = check, out == ["value": .bool(expected)] else { fatalError("expr op: \(check)") }
        for inflight in [1, 64] {
            let echo = await callRate(supervisor, op: "sys.echo", input: input, inflight: inflight, seconds: seconds / 2)
            let expr = await callRate(supervisor, op: "expr", input: input, inflight: inflight, seconds: seconds / 2)
            print("expr through the runner, \(inflight) in flight: expr \(fmt(expr, 0)) calls/s, sys.echo of the "
                + "same input \(fmt(echo, 0)) calls/s (ratio \(fmt(expr / echo, 2)))")
            print("RESULT expr_op_per_s_\(inflight) \(fmt(expr, 0))")
            print("RESULT expr_echo_floor_per_s_\(inflight) \(fmt(echo, 0))")
        }
        await supervisor.drain(timeout: .seconds(2))
        loops.cancel()
    }

    /// Iterations per second of `body` over about `seconds`.
    static func rate(_ seconds: Double, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        for _ in 0..<1000 { body() }
        var n = 0
        let t0 = clock.now
        let end = t0 + .milliseconds(Int(seconds * 1000))
        while clock.now < end {
            for _ in 0..<256 { body() }
            n += 256
        }
        return Double(n) / (microseconds(clock.now - t0) / 1e6)
    }

    static func callRate(_ supervisor: LayerSupervisor, op: String, input: JSONValue, inflight: Int, seconds: Double) async
        -> Double
    {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        let t0 = clock.now
        let total = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<inflight {
                group.addTask {
                    var n = 0
                    while clock.now < end {
                        let (outcome, _) = await supervisor.call(op: op, input: input, timeout: .seconds(30))
                        if case .failed(let f) = outcome { fatalError("\(op) failed: \(f)") }
                        n += 1
                    }
                    return n
                }
            }
            return await group.reduce(0, +)
        }
        return Double(total) / (microseconds(clock.now - t0) / 1e6)
    }
}
