import JALMWire
import Testing
@testable import jalm_layer_io_file

@Suite struct InputTests {
    @Test func knownKeysAreAccepted() async throws {
        let f = try Fixture()
        _ = try await f.call("write", ["path": "a.txt", "content": "a", "encoding": "text", "create_dirs": false, "max_bytes": 10])
    }

    @Test func unknownKeysAreInvalidInput() async throws {
        let f = try Fixture()
        for op in ["read", "write", "append", "list", "stat", "delete", "move", "mkdir"] {
            let all: JSONValue = ["path": "a", "from": "a", "to": "b", "content": "", "bogus": 1]
            let e = await f.failure(op, all.filteringKeys(for: op))
            #expect(e?.code == .invalidInput, "\(op)")
            #expect(e?.message.contains("bogus") == true, "\(op)")
        }
    }

    @Test func nonObjectInputIsInvalidInput() async throws {
        let f = try Fixture()
        let e = await f.failure("read", ["a.txt"])
        #expect(e?.code == .invalidInput)
    }

    @Test func wrongTypeIsInvalidInputWithPointer() async throws {
        let f = try Fixture()
        let e = await f.failure("delete", ["path": "a", "recursive": "yes"])
        #expect(e?.code == .invalidInput)
        #expect(e?.details?["pointer"] == "/recursive")
    }

    @Test func unknownEncodingIsInvalidInput() async throws {
        let f = try Fixture()
        let e = await f.failure("write", ["path": "a", "content": "a", "encoding": "hex"])
        #expect(e?.code == .invalidInput)
    }

    @Test func unknownOpIsNotFound() async throws {
        let f = try Fixture()
        let e = await f.failure("chmod", ["path": "a"])
        #expect(e?.code == .notFound)
    }

    @Test func handlerAnnouncesItsThirteenOps() throws {
        let f = try Fixture()
        #expect(f.handler.ops.sorted() == ["append", "checksum", "copy", "csv.read", "csv.write", "delete", "json.read",
                                           "list", "mkdir", "move", "read", "stat", "write"])
    }
}

extension JSONValue {
    /// Keeps the keys `op` accepts plus `bogus`, so that only the unknown key is wrong.
    fileprivate func filteringKeys(for op: String) -> JSONValue {
        let keep: Set<String> = switch op {
        case "move": ["from", "to", "bogus"]
        case "write", "append": ["path", "content", "bogus"]
        default: ["path", "bogus"]
        }
        return .object((objectValue ?? [:]).filter { keep.contains($0.key) })
    }
}
