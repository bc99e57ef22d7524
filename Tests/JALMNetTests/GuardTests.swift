#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMNet
import JALMWire
import Testing

/// The guard through real libcurl transfers against a listening socket the test owns: a refused
/// destination never reaches it (its accept queue stays empty), an allowed one does.
@Suite struct GuardTests {
    /// A TCP listener on 127.0.0.1 or ::1; `pendingConnections` counts connections that reached it.
    final class Listener {
        let fd: Int32
        let port: Int
        init?(v6: Bool) {
            guard let (fd, port) = Self.open(v6: v6) else { return nil }
            self.fd = fd
            self.port = port
        }

        static func open(v6: Bool) -> (Int32, Int)? {
            let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { return nil }
            var bound: Int32
            if v6 {
                var a = sockaddr_in6()
                a.sin6_family = sa_family_t(AF_INET6)
                a.sin6_addr = in6addr_loopback
                bound = withUnsafePointer(to: &a) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                }
            } else {
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                bound = withUnsafePointer(to: &a) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            guard bound == 0, listen(fd, 16) == 0 else { close(fd); return nil }
            var ss = sockaddr_in6()
            var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
            _ = withUnsafeMutablePointer(to: &ss) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            return (fd, Int(UInt16(bigEndian: ss.sin6_port)))  // sin_port and sin6_port share the offset
        }
        deinit { close(fd) }

        /// Accepts whatever arrived and counts it.
        func pendingConnections() -> Int {
            var n = 0
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return n }
                close(c)
                n += 1
            }
        }
    }

    func refusal(_ url: String, policy: AddressPolicy = AddressPolicy(), total: Duration = .seconds(5)) async -> CallFailure? {
        do {
            _ = try await NetClient(policy: policy).perform(NetRequest(url: url, connectTimeout: .seconds(2),
                                                                        totalTimeout: total))
            return nil
        } catch {
            return error
        }
    }

    @Test func refusesLoopbackSpellingsBeforeConnecting() async throws {
        let v4 = try #require(Listener(v6: false))
        for host in ["127.0.0.1", "2130706433", "0x7f.1", "localhost", "127.1"] {
            let failure = try #require(await refusal("http://\(host):\(v4.port)/"), "\(host)")
            #expect(failure.code == .invalidInput, "\(host)")
            #expect(failure.details?["reason"]?.stringValue == "forbidden_destination", "\(host)")
            #expect(failure.details?["connected"] == .bool(false))
        }
        #expect(v4.pendingConnections() == 0, "no connection may reach the listener")
        if let v6 = Listener(v6: true) {
            for host in ["[::1]", "[::ffff:127.0.0.1]"] {
                let failure = try #require(await refusal("http://\(host):\(v6.port)/"), "\(host)")
                #expect(failure.details?["reason"]?.stringValue == "forbidden_destination", "\(host)")
            }
            #expect(v6.pendingConnections() == 0)
        } else {
            print("SKIP: no IPv6 loopback on this machine; [::1] refusal not checked here")
        }
    }

    @Test func refusesMetadataAddressesWithoutAPacket() async throws {
        // These are never connected: the guard refuses in the open-socket callback, before socket().
        for url in ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://0.0.0.0:1/",
                    "http://[::ffff:169.254.169.254]/"] {
            let failure = try #require(await refusal(url), "\(url)")
            #expect(failure.details?["reason"]?.stringValue == "forbidden_destination", "\(url)")
        }
    }

    @Test func allowlistedLoopbackConnects() async throws {
        let v4 = try #require(Listener(v6: false))
        // The listener never answers, so the transfer times out, after having connected.
        let failure = try #require(await refusal("http://127.0.0.1:\(v4.port)/",
                                                 policy: try AddressPolicy(allow: ["127.0.0.1/32"]), total: .milliseconds(500)))
        #expect(failure.code == .timeout)
        #expect(failure.details?["reason"] == "total_timeout" && failure.details?["limit_ms"] == 500, "\(failure)")
        #expect(v4.pendingConnections() == 1)
    }

    /// libcurl reports no connect time on a reused connection: a slow answer there is still the total
    /// timeout, not the connect timeout.
    @Test func aTimeoutOnAReusedConnectionIsTheTotalTimeout() async throws {
        let listener = try #require(Listener(v6: false))
        let fd = listener.fd
        Thread.detachNewThread { Self.answerOnceThenStall(fd) }
        let client = NetClient(policy: try AddressPolicy(allow: ["127.0.0.1/32"]))
        let url = "http://127.0.0.1:\(listener.port)/"
        let first = try await client.perform(NetRequest(url: url, connectTimeout: .seconds(2), totalTimeout: .seconds(5)))
        #expect(first.status == 200)
        do {
            _ = try await client.perform(NetRequest(url: url, connectTimeout: .seconds(2), totalTimeout: .milliseconds(300)))
            Issue.record("the stalled request did not time out")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.details?["reason"] == "total_timeout" && error.details?["limit_ms"] == 300, "\(error)")
        }
        #expect(listener.pendingConnections() == 0, "the second request opened a new connection")
    }

    /// Accepts one connection, answers its first request with keep-alive, then keeps it open and silent.
    static func answerOnceThenStall(_ listener: Int32) {
        var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 5000) == 1 else { return }
        let c = accept(listener, nil, nil)
        guard c >= 0 else { return }
        defer { close(c) }
        var request = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !request.reversed().starts(with: Array("\n\r\n\r".utf8)) {
            let n = read(c, &chunk, chunk.count)
            guard n > 0 else { return }
            request += chunk[0..<n]
        }
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok".utf8)
        _ = answer.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
        sleep(3)
    }

    @Test func schemesOutsideTheFamilyAreRefused() async throws {
        let failure = try #require(await refusal("file:///etc/passwd"))
        #expect(failure.code == .invalidInput)
        #expect(failure.details?["reason"]?.stringValue == "protocol_not_allowed")
    }
}
