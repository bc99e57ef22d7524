#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMWire
import Testing

/// Every limit is named, configurable and tested at its edge.
@Suite(.serialized) struct LimitTests {
    @Test func aBodyExactlyAtMaxBodyBytesIsAcceptedAndOneByteMoreIs413() throws {
        let daemon = try Daemon(config: "max_body_bytes: 2048")
        var body = Array(#"{"steps":[{"id":"e","layer":"io-file","op":"sys.echo","input":{}}]}"#.utf8)
        body += [UInt8](repeating: 0x20, count: 2048 - body.count)
        #expect(try daemon.request("POST", "/exec", body: body, contentType: "application/json").0 == 202)
        let (status, p) = try daemon.request("POST", "/exec", body: body + [0x20], contentType: "application/json")
        #expect(status == 413 && p["code"] == "resource_exhausted", "\(p)")
        // POST /lint takes the same bodies, so it has the same edge.
        #expect(try daemon.request("POST", "/lint", body: body, contentType: "application/json").0 == 200)
        let (lintStatus, lint) = try daemon.request("POST", "/lint", body: body + [0x20], contentType: "application/json")
        #expect(lintStatus == 413 && lint["code"] == "resource_exhausted", "\(lint)")
    }

    @Test func aCallOverMaxFrameBytesFailsAloneAndTheLayerKeepsItsProcess() throws {
        let daemon = try Daemon(config: "max_frame_bytes: 4096")
        let pid = try daemon.layerPID("io-file")
        let big = String(repeating: "x", count: 5000)
        let view = try daemon.run(["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["s": .string(big)]]]])
        #expect(view["error"]?["code"] == "resource_exhausted", "\(view)")
        let message = view["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("max_frame_bytes"), "\(message)")
        let small = try daemon.run(["steps": [["id": "e", "layer": "io-file", "op": "sys.echo", "input": ["s": "ok"]]]])
        #expect(small["state"] == "completed")
        #expect(try daemon.layerPID("io-file") == pid)
    }

    @Test func aReplyOverMaxFrameBytesIsRefusedByThePluginNotTheConnection() throws {
        let daemon = try Daemon(config: "max_frame_bytes: 4096")
        let pid = try daemon.layerPID("io-file")
        let chunk = JSONValue.string(String(repeating: "y", count: 3000))
        let view = try daemon.run(["steps": [
            ["id": "a", "layer": "io-file", "op": "append", "input": ["path": "big.txt", "content": chunk]],
            ["id": "b", "layer": "io-file", "op": "append", "input": ["path": "big.txt", "content": chunk]],
            ["id": "r", "layer": "io-file", "op": "read", "input": ["path": "big.txt"], "retry": ["max": 0]],
        ]])
        #expect(view["state"] == "failed" && view["error"]?["code"] == "resource_exhausted", "\(view)")
        #expect(try daemon.layerPID("io-file") == pid)
    }
}

@Suite(.serialized) struct IdleConnectionTests {
    @Test func aClientThatStallsInsideARequestIsDisconnectedAfterTheIdleTimeout() throws {
        let daemon = try Daemon(config: "http_idle_timeout: 300ms")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in daemon.socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(connected == 0)
        let partial = Array("POST /exec HTTP/1.1\r\nHost: jalm\r\n".utf8)  // headers never finished
        _ = partial.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let started = Date()
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        #expect(n == 0, "the server should close the stalled connection (read returned \(n))")
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(try daemon.request("GET", "/").0 == 200)
    }

    @Test func aLongWaitOutlivesTheIdleTimeout() throws {
        let daemon = try Daemon(config: "http_idle_timeout: 300ms")
        let view = try daemon.run(["steps": [["id": "n", "layer": "io-file", "op": "sys.sleep", "input": ["ms": 900]]]])
        #expect(view["state"] == "completed", "\(view)")
    }
}
