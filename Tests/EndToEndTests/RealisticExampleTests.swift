import Foundation
import JALMDocument
import JALMWire
import Testing

/// The three realistic examples of examples/ (an order saga, an HTTP fan-out, a nightly CSV import), each
/// run on the real daemon against the real servers it needs, started here; the saga again with a kill -9
/// of jalmd while a compensation is out.
@Suite(.serialized) struct RealisticExampleTests {
    /// The examples that need a server, by file: DemoTests runs every other example.
    static let examples = ["order-saga.yml", "http-fan-out.yml", "nightly-csv-import.yml"]

    /// An example file as JSON, with some of its vars replaced.
    static func example(_ name: String, vars: [String: JSONValue]) throws -> JSONValue {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Daemon.repoDir + "/examples/" + name)))
        guard case .object(var capsule) = try Document.parse(bytes, contentType: "application/yaml") else {
            throw DaemonError("\(name) is not a capsule object")
        }
        var v = capsule["vars"]?.objectValue ?? [:]
        for (k, value) in vars { v[k] = value }
        capsule["vars"] = .object(v)
        return .object(capsule)
    }

    /// The requests the HTTP test server got, as (method, path, body).
    static func requests(_ server: HTTPService) -> [(String, String, String)] {
        let text = (try? String(contentsOfFile: server.workDir + "/requests.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let v = try? JSONParser.parse(String(line)) else { return nil }
            return (v["method"]?.stringValue ?? "", v["path"]?.stringValue ?? "", v["body"]?.stringValue ?? "")
        }
    }

    static func ids(_ view: JSONValue) -> [String] { view["steps"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [] }

    static func reservations(_ daemon: Daemon) throws -> JSONValue? {
        try daemon.run(["steps": [["id": "q", "layer": "io-db", "op": "query",
                                   "input": ["sql": "SELECT order_id FROM reservations"]]]])["outputs"]?["q"]?["rows"]
    }

    @Test func theOrderSagaRefundsAndReleasesWhenShippingFails() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let capsule = try Self.example("order-saga.yml", vars: ["shop_url": .string(server.httpURL + "/shop")])
        let view = try daemon.run(capsule)
        #expect(view["state"] == "failed", "\(view)")
        #expect(view["error"]?["code"] == "upstream_error", "\(view)")
        #expect(view["error"]?["message"]?.stringValue?.hasPrefix("step ship (io-http.request) failed") == true, "\(view)")
        #expect(Self.ids(view) == ["stock_table", "reserve", "charge", "ship", "charge:compensate", "reserve:compensate"])
        let steps = view["steps"]?.arrayValue ?? []
        #expect(steps[4]["compensates"] == "charge" && steps[4]["state"] == "ok", "\(steps[4])")
        #expect(steps[5]["compensates"] == "reserve" && steps[5]["state"] == "ok", "\(steps[5])")
        let shop = Self.requests(server).map { "\($0.0) \($0.1)" }
        #expect(shop == ["POST /shop/charge", "POST /shop/ship", "POST /shop/refund"], "\(shop)")
        #expect(Self.requests(server).last?.2.contains("\"charge_id\":\"ch-42\"") == true, "the refund names the charge")
        #expect(try Self.reservations(daemon) == [], "the reservation was released")

        // Deliverable: nothing is undone.
        let good = try Self.example("order-saga.yml", vars: ["shop_url": .string(server.httpURL + "/shop"), "order": 43,
                                                             "address": "Main St 1"])
        let shipped = try daemon.run(good)
        #expect(shipped["state"] == "completed", "\(shipped)")
        #expect(!Self.ids(shipped).contains { $0.hasSuffix(":compensate") })
        #expect(try Self.reservations(daemon) == [["order_id": 43]])
    }

    @Test func aKill9WhileTheRefundIsOutRunsEachCompensationOnce() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let capsule = try Self.example("order-saga.yml", vars: ["shop_url": .string(server.httpURL + "/shop"),
                                                                "refund_delay_ms": 3000])
        let (s, r) = try daemon.request("POST", "/exec", json: capsule)
        #expect(s == 202, "\(r)")
        let id = try #require(r["execution_id"]?.stringValue)
        // The refund reached the shop and sleeps there: jalmd dies with it out.
        #expect(daemon.waitUntil(20) { Self.requests(server).contains { $0.1 == "/shop/refund" } })
        daemon.kill9()
        try daemon.start()
        #expect(try daemon.waitUntil(20) { try daemon.request("GET", "/exec/\(id)").1["state"] == "failed" })
        let view = try daemon.request("GET", "/exec/\(id)").1
        // The refund may have happened: it is not sent again, and the error says it may not have been undone.
        #expect(Self.requests(server).filter { $0.1 == "/shop/refund" }.count == 1)
        #expect(Self.requests(server).filter { $0.1 == "/shop/charge" }.count == 1)
        let steps = view["steps"]?.arrayValue ?? []
        #expect(steps.first { $0["id"] == "charge:compensate" }?["state"] == "unknown", "\(steps)")
        #expect(steps.first { $0["id"] == "reserve:compensate" }?["state"] == "ok", "\(steps)")
        #expect(view["error"]?["code"] == "upstream_error", "the saga's own error stays: \(view)")
        #expect(view["error"]?["details"]?["compensations_failed"] == ["charge:compensate"], "\(view)")
        #expect(try Self.reservations(daemon) == [], "the release ran after the restart")
    }

    @Test func theFanOutReportsWithAFallbackForTheServiceThatIsDown() throws {
        let server = try HTTPService()
        defer { server.stop() }
        let daemon = try Daemon(config: TestServices.daemonConfig([server]), secrets: server.secrets)
        let view = try daemon.run(try Self.example("http-fan-out.yml", vars: ["service_url": .string(server.httpURL)]))
        #expect(view["state"] == "completed", "\(view)")
        #expect(view["outputs"]?["report"] == ["orders": 3, "stock": ["source": "cache", "level": "unknown"],
                                               "news": "hello from the test server"], "\(view)")
        let stock = view["steps"]?.arrayValue?.first { $0["id"] == "stock" }
        #expect(stock?["state"] == "ok" && stock?["fallback"] == "ok" && stock?["attempts"] == 2, "\(String(describing: stock))")
        #expect(Self.requests(server).filter { $0.1 == "/status/503" }.count == 2, "one try and one retry")
    }

    @Test func theNightlyImportInsertsTheGoodRowsAndMailsAReport() throws {
        guard let (smtp, daemon) = try NotifyMQEmailTests.start() else { return }
        defer { smtp.stop() }
        try FileManager.default.createDirectory(atPath: daemon.dataDir + "/files/imports", withIntermediateDirectories: true)
        try "id,customer,amount\r\n1,Ada,12.5\r\n2,Bob,-5\r\n3,Cy,7\r\n4,Di,0.5\r\n5,Ed,30\r\n"
            .write(toFile: daemon.dataDir + "/files/imports/orders.csv", atomically: true, encoding: .utf8)
        let view = try daemon.run(try Self.example("nightly-csv-import.yml", vars: smtp.vars))
        #expect(view["state"] == "completed", "\(view)")
        let each = view["outputs"]?["each"]?.arrayValue ?? []
        #expect(each.count == 5 && each[1] == .null, "row 2 is refused by the CHECK and gives null: \(each)")
        let refused = view["steps"]?.arrayValue?.first { $0["id"] == "each[1].insert" }
        #expect(refused?["state"] == "error", "\(String(describing: refused))")
        #expect(daemon.waitUntil(10) { smtp.messages.count == 1 })
        let mail = try smtp.parsed(0)
        #expect(mail["subject"] == "Nightly import: 4 of 5 rows", "\(mail)")
        let text = mail["parts"]?[0]?["content"]?.stringValue ?? ""
        #expect(text.contains("Imported 4 of 5 rows") && text.contains("now holds 4 orders worth 50"), "\(mail)")
    }
}
