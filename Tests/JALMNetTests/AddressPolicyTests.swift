import JALMNet
import JALMWire
import Testing

@Suite struct AddressPolicyTests {
    /// Every spelling the SSRF corpus uses, with the range the guard must see behind it.
    static let table: [(String, String, AddressClass.Range)] = [
        ("127.0.0.1", "127.0.0.1", .loopback),
        ("2130706433", "127.0.0.1", .loopback),
        ("0x7f.1", "127.0.0.1", .loopback),
        ("0177.0.0.1", "127.0.0.1", .loopback),
        ("127.1", "127.0.0.1", .loopback),
        ("0x7f000001", "127.0.0.1", .loopback),
        ("0.0.0.0", "0.0.0.0", .unspecified),
        ("0", "0.0.0.0", .unspecified),
        ("169.254.169.254", "169.254.169.254", .linkLocal),
        ("10.1.2.3", "10.1.2.3", .privateNetwork),
        ("172.16.0.1", "172.16.0.1", .privateNetwork),
        ("172.31.255.255", "172.31.255.255", .privateNetwork),
        ("192.168.1.1", "192.168.1.1", .privateNetwork),
        ("100.64.0.1", "100.64.0.1", .sharedCGNAT),
        ("224.0.0.1", "224.0.0.1", .multicast),
        ("255.255.255.255", "255.255.255.255", .broadcast),
        ("240.0.0.1", "240.0.0.1", .reserved),
        ("::1", "::1", .loopback),
        ("[::1]", "::1", .loopback),
        ("::", "::", .unspecified),
        ("fe80::1", "fe80::1", .linkLocal),
        ("fd00:ec2::254", "fd00:ec2::254", .uniqueLocal),
        ("fc00::1", "fc00::1", .uniqueLocal),
        ("ff02::1", "ff02::1", .multicast),
        ("::ffff:169.254.169.254", "::ffff:a9fe:a9fe", .linkLocal),
        ("::ffff:7f00:1", "::ffff:7f00:1", .loopback),
        ("::ffff:127.0.0.1", "::ffff:7f00:1", .loopback),
        ("::127.0.0.1", "::7f00:1", .loopback),
        ("::ffff:10.0.0.1", "::ffff:a00:1", .privateNetwork),
        ("64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe", .linkLocal),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1", .loopback),
        ("2002:7f00:1::", "2002:7f00:1::", .loopback),
        ("2001:db8::1", "2001:db8::1", .documentation),
        ("8.8.8.8", "8.8.8.8", .publicUnicast),
        ("172.32.0.1", "172.32.0.1", .publicUnicast),
        ("100.128.0.1", "100.128.0.1", .publicUnicast),
        ("2606:4700::1111", "2606:4700::1111", .publicUnicast),
        ("::ffff:8.8.8.8", "::ffff:808:808", .publicUnicast),
    ]

    @Test(arguments: table)
    func classifies(_ row: (String, String, AddressClass.Range)) throws {
        let address = try #require(IPAddress(row.0), "\(row.0) should parse")
        #expect(address.description == row.1)
        #expect(AddressClass.of(address).range == row.2, "\(row.0)")
        let verdict = AddressPolicy().decide(address)
        #expect((verdict == .allowed) == (row.2 == .publicUnicast), "\(row.0) default verdict")
    }

    @Test func wrappedAddressesNameTheirWrapping() throws {
        let mapped = AddressClass.of(try #require(IPAddress("::ffff:169.254.169.254")))
        #expect(mapped.reason == "link_local (ipv4-mapped)")
        #expect(mapped.embedded == IPAddress("169.254.169.254"))
        #expect(AddressClass.of(try #require(IPAddress("64:ff9b::a9fe:a9fe"))).reason == "link_local (nat64)")
    }

    @Test(arguments: ["", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "0x100000000", "1..2", "::1::", "1:2:3:4:5:6:7:8:9",
                      "fe80::1%eth0", "12345::", "::ffff:1.2.3", "g::1", "1.2.3.4:80", "08.1.1.1"])
    func refusesMalformed(_ text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    @Test func allowlistOpensExactlyItsNetworks() throws {
        let policy = try AddressPolicy(allow: ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8", "Internal.Example"])
        #expect(policy.decide(try #require(IPAddress("127.0.0.1"))) == .allowed)
        #expect(policy.decide(try #require(IPAddress("::ffff:127.0.0.1"))) == .allowed, "mapped form of an allowed v4")
        #expect(policy.decide(try #require(IPAddress("127.0.0.2"))) != .allowed)
        #expect(policy.decide(try #require(IPAddress("::1"))) != .allowed)
        #expect(policy.decide(try #require(IPAddress("10.200.0.1"))) == .allowed)
        #expect(policy.decide(try #require(IPAddress("fd00:ec2::254"))) == .allowed)
        #expect(policy.decide(try #require(IPAddress("169.254.169.254"))) != .allowed)
        #expect(policy.decide(try #require(IPAddress("192.168.0.1")), host: "internal.example") == .allowed)
        #expect(policy.decide(try #require(IPAddress("192.168.0.1")), host: "other.example") != .allowed)
    }

    @Test func allowlistRefusesBadEntries() {
        #expect(throws: AllowlistError.self) { try AddressPolicy(allow: ["10.0.0.1/8"]) }  // host bits set
        #expect(throws: AllowlistError.self) { try AddressPolicy(allow: ["10.0.0.0/33"]) }
        #expect(throws: AllowlistError.self) { try AddressPolicy(allow: ["http://x"]) }
        #expect(throws: AllowlistError.self) { try AddressPolicy(allow: ["1.2.3.4.5"]) }
    }

    @Test func cidrContainment() throws {
        let net = try #require(CIDR("172.16.0.0/12"))
        #expect(net.contains(try #require(IPAddress("172.31.1.1"))))
        #expect(!net.contains(try #require(IPAddress("172.32.0.0"))))
        #expect(!net.contains(try #require(IPAddress("::ffff:172.16.0.1"))), "families never mix")
        #expect(try #require(CIDR("0.0.0.0/0")).contains(try #require(IPAddress("8.8.8.8"))))
    }

    @Test func redactsCredentials() {
        #expect(Redaction.url("https://user:pw@h.example:8443/p?q=secret#f") == "https://h.example:8443/p")
        #expect(Redaction.header(HeaderField("Authorization", "Bearer x")).value == "[REDACTED]")
        #expect(Redaction.header(HeaderField("X-Api-Key", "x")).value == "[REDACTED]")
        #expect(Redaction.header(HeaderField("Accept", "x")).value == "x")
    }

    @Test func base64RoundTrip() {
        for n in 0..<20 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + 11) & 0xff) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("Zm9v=mFy") == nil)
        // Unpadded input is accepted (a common variant); padding in the middle is not.
        #expect(Base64.decode("Zm9") == Array("fo".utf8))
    }
}
