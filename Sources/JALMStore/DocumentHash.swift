/// FNV-1a, 64 bits: the key under which a capsule document is stored once. Not a proof of equality: a
/// document is reused only when its bytes match too.
enum DocumentHash {
    static func of(_ bytes: [UInt8]) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: h)
    }
}
