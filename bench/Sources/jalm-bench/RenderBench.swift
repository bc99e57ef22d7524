import Foundation
import JALMLayerKit
import JALMSupervisor
import JALMWire
import Logging
import RenderHTMLKit

/// Benchmark: Mustache renders/s of a realistic page (a ~5 KiB template file, a loop over 50 items through
/// two partials, HTML escaping), in-process (the layer's own code, no IPC) and through the runner (a real
/// `LayerSupervisor` and the `jalm-layer-render-html` process), beside `sys.echo` on the same supervisor.
enum RenderBench {
    static func run(binDir: String, dataDir: String, seconds: Double) async throws {
        let templates = dataDir + "/templates"
        try writeTemplates(templates)
        let input: JSONValue = ["template_file": "page.mustache", "data": pageData()]
        let page = try String(contentsOfFile: templates + "/page.mustache", encoding: .utf8)

        let handler = try RenderHTMLHandler(templates: templates, config: [:])
        let context = CallContext(callID: 1, deadline: .now + .seconds(3600))
        let first = try await handler.handle(op: "render", input: input, context: context)
        print("render: template \(page.utf8.count) bytes, output \(first["bytes"]?.intValue ?? 0) bytes")
        let clock = ContinuousClock()
        var lat: [Double] = []
        let end = clock.now + .seconds(seconds)
        while clock.now < end {
            let t0 = clock.now
            _ = try await handler.handle(op: "render", input: input, context: context)
            lat.append(microseconds(clock.now - t0))
        }
        let inProcess = Double(lat.count) / seconds
        print("render in-process      : \(fmt(inProcess, 0)) renders/s, \(Stats(samples: lat).summary)")
        print("RESULT render_inprocess_per_s \(fmt(inProcess, 0))")
        print("RESULT render_inprocess_p50_us \(fmt(Stats(samples: lat).percentile(50)))")

        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let manifest = try LayerManifest.parse(
            ["name": "render-html", "executable": "jalm-layer-render-html", "pool": 1, "max_inflight": 64],
            directory: binDir)
        let supervisor = try LayerSupervisor(
            manifest: manifest, settings: SupervisorSettings(binDirectory: binDir, dataDirectory: dataDir),
            requiredOps: ["render"], logger: logger, recordEvent: { _, _ in })
        supervisor.start()
        // The ping loop and deadline sweep, which the kernel would run beside the supervisor.
        let loops = Task { try await SupervisorLoops(supervisor).run() }
        while !supervisor.isReady { try await Task.sleep(for: .milliseconds(5)) }
        let (warm, _) = await supervisor.call(op: "render", input: input, timeout: .seconds(10))
        if case .failed(let f) = warm { fatalError("render through the runner failed: \(f)") }

        for (label, op, payload) in [("sys.echo (same size)", "sys.echo", ["html": first["html"] ?? ""] as JSONValue),
                                     ("render", "render", input)] {
            var samples: [Double] = []
            let stop = clock.now + .seconds(seconds)
            while clock.now < stop {
                let t0 = clock.now
                let (outcome, _) = await supervisor.call(op: op, input: payload, timeout: .seconds(10))
                samples.append(microseconds(clock.now - t0))
                if case .failed(let f) = outcome { fatalError("\(op) failed: \(f)") }
            }
            let rate = Double(samples.count) / seconds
            let key = op == "render" ? "render_runner" : "render_echo"
            print("\(label) via runner, 1 in flight: \(fmt(rate, 0))/s, \(Stats(samples: samples).summary)")
            print("RESULT \(key)_per_s \(fmt(rate, 0))")
            print("RESULT \(key)_p50_us \(fmt(Stats(samples: samples).percentile(50)))")
        }
        // Two in flight: the plugin renders on both cores.
        let perTask = Int(inProcess * seconds / 4)
        let t0 = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<perTask { _ = await supervisor.call(op: "render", input: input, timeout: .seconds(30)) }
                }
            }
        }
        let rate2 = Double(perTask * 2) / (microseconds(clock.now - t0) / 1e6)
        print("render via runner, 2 in flight: \(fmt(rate2, 0)) renders/s")
        print("RESULT render_runner_per_s_2 \(fmt(rate2, 0))")
        await supervisor.drain(timeout: .seconds(2))
        loops.cancel()
    }

    static func pageData() -> JSONValue {
        let items: [JSONValue] = (0..<50).map { i in
            ["id": .int(Int64(i)), "name": .string("Item <\(i)> & \"friends\""), "price": .double(Double(i) * 1.25 + 0.99),
             "url": .string("/items/\(i)?ref=list&sort=price"), "tags": .array([.string("tag\(i % 5)"), .string("sale")]),
             "in_stock": .bool(i % 3 != 0), "description": .string(String(repeating: "Lorem ipsum dolor sit amet. ", count: 2))]
        }
        return ["title": "Catalogue — spring <edition>", "user": ["name": "Ada", "email": "ada@example.org"],
                "nav": .array(["Home", "Shop", "Cart", "Account", "Help"].map { ["label": .string($0), "href": .string("/\($0.lowercased())")] }),
                "items": .array(items), "year": 2026]
    }

    static func writeTemplates(_ dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/parts", withIntermediateDirectories: true)
        let style = (0..<70).map { "  .c\($0) { margin: \($0)px; padding: 2px 4px; color: #333; }" }.joined(separator: "\n")
        let page = """
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>{{title}}</title>
              <style>
            \(style)
              </style>
            </head>
            <body>
              <header class="top">
                <h1>{{title}}</h1>
                {{#user}}<p class="user">Signed in as <a href="mailto:{{email}}">{{name}}</a></p>{{/user}}
                <nav><ul>
                {{#nav}}
                  <li><a href="{{href}}">{{label}}</a></li>
                {{/nav}}
                </ul></nav>
              </header>
              <main>
                <table class="items">
                  <thead><tr><th>#</th><th>Name</th><th>Price</th><th>Tags</th><th>Stock</th></tr></thead>
                  <tbody>
                  {{#items}}
                    {{>parts/row}}
                  {{/items}}
                  {{^items}}<tr><td colspan="5">Nothing here.</td></tr>{{/items}}
                  </tbody>
                </table>
              </main>
              <footer>&copy; {{year}} Example Shop. All prices include VAT.</footer>
            </body>
            </html>

            """
        try page.write(toFile: dir + "/page.mustache", atomically: true, encoding: .utf8)
        try """
            <tr id="item-{{id}}" class="{{#in_stock}}available{{/in_stock}}{{^in_stock}}sold-out{{/in_stock}}">
              <td>{{id}}</td><td><a href="{{url}}" title="{{name}}">{{name}}</a><br><small>{{description}}</small></td>
              <td>{{price}}</td><td>{{#tags}}{{>parts/badge}}{{/tags}}</td><td>{{#in_stock}}yes{{/in_stock}}{{^in_stock}}no{{/in_stock}}</td>
            </tr>

            """.write(toFile: dir + "/parts/row.mustache", atomically: true, encoding: .utf8)
        try "<span class=\"badge\">{{.}}</span>".write(toFile: dir + "/parts/badge.mustache", atomically: true, encoding: .utf8)
    }
}
