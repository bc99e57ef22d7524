import Testing
@testable import jalm_layer_notify_mq

/// HMAC-SHA256 against RFC 4231's test vectors, and the webhook signature built on it.
struct DigestTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    @Test(arguments: [
        // RFC 4231 §4.2, 4.3, 4.4, 4.7 (test cases 1, 2, 3, 7).
        ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (String(repeating: "aa", count: 131),
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func hmacMatchesRFC4231(key: String, data: String, mac: String) {
        #expect(Digest.hex(Digest.hmacSHA256(key: Self.bytes(key), message: Self.bytes(data))) == mac)
    }

    @Test func sha256OfABC() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func theSignatureSignsTimestampDotBody() {
        let body = Array(#"{"a":1}"#.utf8)
        let value = WebhookSignature.value(secret: Array("s".utf8), timestamp: 1700000000, body: body)
        let mac = Digest.hex(Digest.hmacSHA256(key: Array("s".utf8), message: Array("1700000000.".utf8) + body))
        #expect(value == "t=1700000000,v1=\(mac)")
        // The deny twin: another timestamp gives another signature.
        #expect(value != WebhookSignature.value(secret: Array("s".utf8), timestamp: 1700000001, body: body))
    }
}
