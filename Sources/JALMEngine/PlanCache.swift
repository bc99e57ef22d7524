import JALMCore
import Synchronization

/// Capsules submitted again byte for byte (a client that runs the same capsule every minute, a retry) are
/// parsed, validated and planned once: the plan is kept by its document's bytes and the generation of the
/// announced ops it was validated against, and made again when the layers' ops change. Bounded: when full,
/// it starts over. The secrets a capsule declares are still checked at every submission.
final class PlanCache: Sendable {
    struct Entry: Sendable {
        var body: [UInt8]
        var contentType: String?
        var generation: UInt64
        var plan: Plan
    }

    /// Documents larger than this are not kept.
    static let maxBodyBytes = 64 * 1024
    static let capacity = 256

    private let entries = Mutex<(byHash: [UInt64: [Entry]], count: Int)>(([:], 0))

    func plan(for body: [UInt8], contentType: String?, generation: UInt64) -> Plan? {
        guard body.count <= Self.maxBodyBytes else { return nil }
        let hash = Self.hash(body)
        return entries.withLock { e in
            e.byHash[hash]?.first {
                $0.generation == generation && $0.contentType == contentType && $0.body == body
            }?.plan
        }
    }

    func remember(_ plan: Plan, for body: [UInt8], contentType: String?, generation: UInt64) {
        guard body.count <= Self.maxBodyBytes else { return }
        let hash = Self.hash(body)
        entries.withLock { e in
            if e.count >= Self.capacity { e = ([:], 0) }
            e.byHash[hash, default: []].removeAll { $0.body == body && $0.contentType == contentType }
            e.byHash[hash, default: []].append(Entry(body: body, contentType: contentType, generation: generation,
                                                     plan: plan))
            e.count += 1
        }
    }

    /// FNV-1a over the bytes; equality of the bytes decides.
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
