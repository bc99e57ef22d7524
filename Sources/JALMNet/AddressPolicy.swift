/// Which addresses a transfer may connect to: the SSRF guard's pure half.
///
/// Every address the resolver hands to libcurl is checked here at connect time (the open-socket callback),
/// so what is judged is the address actually connected, never the URL's text: numeric spellings
/// (`2130706433`, `0x7f.1`), names that resolve to internal addresses (`localhost`, DNS rebinding) and
/// redirect hops are all caught by the same check. Default: every non-public range is refused; the
/// operator's allowlist (CIDRs and host names) opens exactly what is wanted.
public struct AddressPolicy: Sendable, Equatable {
    /// Networks the operator opened, checked before the built-in deny list.
    public var allowedNetworks: [CIDR]
    /// Host names (lower-case) whose every resolved address is allowed: the operator trusts that name.
    public var allowedHosts: Set<String>

    public init(allowedNetworks: [CIDR] = [], allowedHosts: Set<String> = []) {
        self.allowedNetworks = allowedNetworks
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Reads an allowlist: each entry is a CIDR, a bare address, or a host name. A bad entry is named.
    public init(allow entries: [String]) throws(AllowlistError) {
        var networks: [CIDR] = []
        var hosts: Set<String> = []
        for entry in entries {
            let e = entry.trimmingSpaces()
            if let cidr = CIDR(e) {
                networks.append(cidr)
            } else if Self.isHostName(e) {
                hosts.insert(e.lowercased())
            } else {
                throw AllowlistError(entry: entry)
            }
        }
        self.init(allowedNetworks: networks, allowedHosts: hosts)
    }

    /// The guard's verdict for connecting to `address` on behalf of a URL whose host is `host`.
    public func decide(_ address: IPAddress, host: String? = nil) -> Verdict {
        if let host, allowedHosts.contains(host.lowercased().trimmingBrackets()) { return .allowed }
        let classification = AddressClass.of(address)
        for candidate in [address] + (classification.embedded.map { [$0] } ?? []) {
            if allowedNetworks.contains(where: { $0.contains(candidate) }) { return .allowed }
        }
        return classification.range == .publicUnicast ? .allowed : .denied(classification)
    }

    public enum Verdict: Equatable, Sendable {
        case allowed
        case denied(AddressClass)
    }

    /// Letters, digits, `-`, `.`, `_`; at least one letter (so a mistyped address is not taken as a name).
    static func isHostName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253
            && s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." || $0 == "_" }
            && s.contains(where: { $0.isLetter })
            && !s.lowercased().hasPrefix("0x")
    }
}

/// An allowlist entry that is neither a CIDR, an address nor a host name.
public struct AllowlistError: Error, Sendable, CustomStringConvertible {
    public var entry: String
    public var description: String {
        "allowlist entry \"\(entry)\" is not a CIDR (10.0.0.0/8, fd00::/8), an address or a host name"
    }
}

/// What kind of address this is, and the IPv4 address it carries when it is an IPv6 wrapper of one.
public struct AddressClass: Equatable, Sendable {
    public var range: Range
    /// How the IPv4 address was wrapped, when it was (`ipv4-mapped`, `ipv4-compatible`, `nat64`, `6to4`).
    public var wrapping: String?
    /// The wrapped IPv4 address.
    public var embedded: IPAddress?

    public enum Range: String, Sendable {
        case publicUnicast = "public"
        case unspecified, loopback
        case linkLocal = "link_local"
        case privateNetwork = "private"
        case sharedCGNAT = "shared_cgnat"
        case uniqueLocal = "unique_local"
        case multicast, broadcast, reserved, documentation
    }

    /// The reason word shown to users: the range, and the wrapping when there was one.
    public var reason: String { wrapping.map { "\(range.rawValue) (\($0))" } ?? range.rawValue }

    public static func of(_ address: IPAddress) -> AddressClass {
        if address.isV4 { return AddressClass(range: v4Range(address), wrapping: nil, embedded: nil) }
        let b = address.bytes
        let first12Zero = b[0..<12].allSatisfy { $0 == 0 }
        // The IPv6 spellings of an IPv4 address judge by the IPv4 address they lead to.
        let wrapping: String?
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
            wrapping = "ipv4-mapped"
        } else if first12Zero && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1) {
            wrapping = "ipv4-compatible"
        } else if b[0..<4] == [0x00, 0x64, 0xff, 0x9b] && b[4..<12].allSatisfy({ $0 == 0 }) {
            wrapping = "nat64"
        } else {
            wrapping = nil
        }
        if let wrapping {
            let v4 = address.lowV4
            return AddressClass(range: v4Range(v4), wrapping: wrapping, embedded: v4)
        }
        if b[0] == 0x20 && b[1] == 0x02 {
            let v4 = IPAddress(bytes: Array(b[2..<6]))!
            let inner = v4Range(v4)
            if inner != .publicUnicast { return AddressClass(range: inner, wrapping: "6to4", embedded: v4) }
            return AddressClass(range: .publicUnicast, wrapping: nil, embedded: nil)
        }
        return AddressClass(range: v6Range(address), wrapping: nil, embedded: nil)
    }

    static let v4Table: [(String, Range)] = [
        ("0.0.0.0/8", .unspecified), ("10.0.0.0/8", .privateNetwork), ("100.64.0.0/10", .sharedCGNAT),
        ("127.0.0.0/8", .loopback), ("169.254.0.0/16", .linkLocal), ("172.16.0.0/12", .privateNetwork),
        ("192.0.0.0/24", .reserved), ("192.0.2.0/24", .documentation), ("192.88.99.0/24", .reserved),
        ("192.168.0.0/16", .privateNetwork), ("198.18.0.0/15", .reserved), ("198.51.100.0/24", .documentation),
        ("203.0.113.0/24", .documentation), ("224.0.0.0/4", .multicast), ("255.255.255.255/32", .broadcast),
        ("240.0.0.0/4", .reserved),
    ]

    static let v6Table: [(String, Range)] = [
        ("::/128", .unspecified), ("::1/128", .loopback), ("fe80::/10", .linkLocal), ("fec0::/10", .reserved),
        ("fc00::/7", .uniqueLocal), ("ff00::/8", .multicast), ("64:ff9b:1::/48", .reserved),
        ("100::/64", .reserved), ("2001::/23", .reserved), ("2001:db8::/32", .documentation),
        ("3fff::/20", .documentation), ("5f00::/16", .reserved),
    ]

    private static let v4Networks = v4Table.map { (CIDR($0.0)!, $0.1) }
    private static let v6Networks = v6Table.map { (CIDR($0.0)!, $0.1) }

    static func v4Range(_ a: IPAddress) -> Range {
        v4Networks.first(where: { $0.0.contains(a) })?.1 ?? .publicUnicast
    }

    static func v6Range(_ a: IPAddress) -> Range {
        // Only global unicast (2000::/3) is public; everything outside it is unassigned or special.
        guard a.bytes[0] & 0xe0 == 0x20 else {
            return v6Networks.first(where: { $0.0.contains(a) })?.1 ?? .reserved
        }
        return v6Networks.first(where: { $0.0.contains(a) })?.1 ?? .publicUnicast
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func trimmingBrackets() -> String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
