/// A network: an address and how many of its leading bits are fixed (`10.0.0.0/8`, `fe80::/10`).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// `address/prefix`, or a bare address meaning that one address (/32 or /128). Host bits that are
    /// set are refused: `10.0.0.1/8` is a typo more often than a wish.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else { return nil }
        let width = address.bytes.count * 8
        let length: Int
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...width).contains(n), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = n
        } else {
            length = width
        }
        guard CIDR.masked(address.bytes, length) == address.bytes else { return nil }
        self.network = address
        self.prefixLength = length
    }

    public init(network: IPAddress, prefixLength: Int) {
        self.network = IPAddress(bytes: CIDR.masked(network.bytes, prefixLength))!
        self.prefixLength = prefixLength
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && CIDR.masked(address.bytes, prefixLength) == network.bytes
    }

    public var description: String { "\(network)/\(prefixLength)" }

    static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let bitsHere = max(0, min(8, length - 8 * i))
            return bitsHere == 8 ? b : b & ~(UInt8(0xff) >> UInt8(bitsHere))
        }
    }
}
