import Foundation
import JALMWire
import Testing

/// `{{ secrets.NAME }}`: resolved by the kernel at dispatch from `<data>/secrets`, never journaled, never shown.
@Suite(.serialized) struct SecretTests {
    static let value = "tok-7f3a9c1e-SECRET"
    let daemon: Daemon
    init() throws { daemon = try Daemon(secrets: ["api_token": SecretTests.value, "short": "ab"]) }

    @Test func aSecretReachesTheLayerButNotTheOutputOrTheJournal() throws {
        let view = try daemon.run(["secrets": ["api_token"], "steps": [
            ["id": "w", "layer": "io-file", "op": "write",
             "input": ["path": "cred.txt", "content": "Bearer {{ secrets.api_token }}"]],
            ["id": "r", "layer": "io-file", "op": "read", "input": ["path": "cred.txt"]],
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["token": "{{ secrets.api_token }}"]],
        ]])
        #expect(view["state"] == "completed", "\(view)")
        // The layer got the value: the file holds it.
        let onDisk = try String(contentsOfFile: daemon.dataDir + "/files/cred.txt", encoding: .utf8)
        #expect(onDisk == "Bearer " + SecretTests.value)
        // What came back is masked.
        #expect(view["outputs"]?["r"]?["content"] == "Bearer ***", "\(view)")
        #expect(view["outputs"]?["e"]?["token"] == "***", "\(view)")
        // No byte of the value is in the journal files or the log (a step's input is not journaled at all: it is
        // rendered again from the capsule and the outputs when needed).
        _ = try daemon.terminate()
        for file in ["journal.sqlite", "journal.sqlite-wal"] {
            guard let bytes = FileManager.default.contents(atPath: daemon.dataDir + "/" + file) else { continue }
            #expect(bytes.range(of: Data(SecretTests.value.utf8)) == nil, "\(file) contains the secret")
        }
        #expect(!daemon.log.contains(SecretTests.value))
        #expect(try JournalFile(daemon.dataDir).runs(view["id"]!.stringValue!).map(\.state) == ["ok", "ok", "ok"])
    }

    @Test func anUndeclaredSecretIs422AtTheTemplate() throws {
        let (status, p) = try daemon.request("POST", "/exec", json: ["steps": [
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["t": "{{ secrets.api_token }}"]]]])
        #expect(status == 422 && p["pointer"] == "/steps/0/input/t", "\(p)")
    }

    @Test func aSecretThatIsNotSetIs422AtItsName() throws {
        let (status, p) = try daemon.request("POST", "/exec", json: ["secrets": ["api_token", "nope"], "steps": [
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": [:]]]])
        #expect(status == 422 && p["pointer"] == "/secrets/1", "\(p)")
        #expect(p["detail"]?.stringValue?.contains("nope") == true, "\(p)")
    }

    @Test func aSecretNameThatIsAPathIsRefused() throws {
        let (status, p) = try daemon.request("POST", "/exec", json: ["secrets": ["../journal.sqlite"], "steps": [
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": [:]]]])
        #expect(status == 422 && p["pointer"] == "/secrets/0", "\(p)")
    }

    @Test func aSecretTemplateTakesNoPath() throws {
        let (status, p) = try daemon.request("POST", "/exec", json: ["secrets": ["api_token"], "steps": [
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["t": "{{ secrets.api_token.x }}"]]]])
        #expect(status == 422 && p["pointer"] == "/steps/0/input/t", "\(p)")
    }

    @Test func aSecretAtTheSizeLimitIsUsedAndOneByteMoreIsRefused() throws {
        // SecretStore.maxBytes is 64 KiB (the trailing newline an editor adds does not count).
        try daemon.writeSecrets(["big": String(repeating: "k", count: 64 * 1024) + "\n",
                                 "huge": String(repeating: "k", count: 64 * 1024 + 1)])
        let ok = try daemon.run(["secrets": ["big"], "steps": [
            ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "big.txt", "content": "{{ secrets.big }}"]]]])
        #expect(ok["state"] == "completed", "\(ok)")
        #expect(try FileManager.default.attributesOfItem(atPath: daemon.dataDir + "/files/big.txt")[.size] as? Int == 64 * 1024)
        let (status, p) = try daemon.request("POST", "/exec", json: ["secrets": ["huge"], "steps": [
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": [:]]]])
        #expect(status == 422 && p["pointer"] == "/secrets/0", "\(p)")
        #expect(p["detail"]?.stringValue?.contains("larger than 65536 bytes") == true, "\(p)")
    }

    /// docs/capsules.md: a secret deleted while an execution runs fails the step that would read it, with
    /// `not_found` at its name, journaled like any step failure.
    @Test func aSecretDeletedDuringARunFailsTheNextStepAtItsName() throws {
        try daemon.writeSecrets(["fleeting": "value-of-a-moment"])
        let (status, accepted) = try daemon.request("POST", "/exec", json: ["secrets": ["fleeting"], "steps": [
            ["id": "nap", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 1500]],
            ["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["t": "{{ secrets.fleeting }}"]]]])
        #expect(status == 202, "\(accepted)")
        let id = try #require(accepted["execution_id"]?.stringValue)
        usleep(300_000)
        try FileManager.default.removeItem(atPath: daemon.dataDir + "/secrets/fleeting")
        var view: JSONValue = .null
        #expect(try daemon.waitUntil(10) {
            view = try daemon.request("GET", "/exec/\(id)").1
            return view["state"] == "failed"
        }, "\(view)")
        #expect(view["error"]?["code"] == "not_found" && view["error"]?["pointer"] == "/secrets/0", "\(view)")
        #expect(view["steps"]?[0]?["state"] == "ok" && view["steps"]?[1]?["state"] == "error", "\(view)")
    }

    @Test func aSecretRotatedBetweenRunsIsUsedAtOnce() throws {
        try daemon.writeSecrets(["api_token": "rotated-value-2"])
        defer { try? daemon.writeSecrets(["api_token": SecretTests.value]) }
        let view = try daemon.run(["secrets": ["api_token"], "steps": [
            ["id": "w", "layer": "io-file", "op": "write", "input": ["path": "rot.txt", "content": "{{ secrets.api_token }}"]]]])
        #expect(view["state"] == "completed", "\(view)")
        #expect(try String(contentsOfFile: daemon.dataDir + "/files/rot.txt", encoding: .utf8) == "rotated-value-2")
    }
}
