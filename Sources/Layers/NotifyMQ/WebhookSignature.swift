/// The signature a webhook carries, Stripe-like: `X-JALM-Signature: t=<unix seconds>,v1=<hex>` where
/// `v1 = HMAC-SHA256(secret, "<t>.<body>")`. Signing the timestamp with the body lets a receiver refuse a
/// replayed request older than its tolerance; `v1` names the scheme so a later one can be added beside it.
/// docs/layers.md shows how a receiver verifies it.
enum WebhookSignature {
    static let header = "X-JALM-Signature"
    static let timestampHeader = "X-JALM-Timestamp"

    /// The signed string: the timestamp, a dot, the exact body bytes.
    static func signedBytes(timestamp: Int64, body: [UInt8]) -> [UInt8] {
        Array("\(timestamp).".utf8) + body
    }

    static func value(secret: [UInt8], timestamp: Int64, body: [UInt8]) -> String {
        let mac = Digest.hmacSHA256(key: secret, message: signedBytes(timestamp: timestamp, body: body))
        return "t=\(timestamp),v1=\(Digest.hex(mac))"
    }
}
