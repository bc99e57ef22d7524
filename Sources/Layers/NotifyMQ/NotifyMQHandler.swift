import JALMLayerKit
import JALMWire

/// The notify-mq layer: messages that leave the machine (Redis streams and pub/sub, NATS, webhooks,
/// email). Every op is `side_effect: external` and carries the kernel's idempotency key to the receiver;
/// docs/layers.md says, per op, what that guarantees.
public final class NotifyMQHandler: LayerHandler {
    public let ops = ["webhook", "email", "redis.xadd", "redis.publish", "nats.publish"]

    let settings: NotifySettings
    let io: BlockingIO

    init(settings: NotifySettings) {
        self.settings = settings
        self.io = BlockingIO(maxThreads: settings.ioThreads)
    }

    /// Reads the layer settings; a malformed one stops the plugin at start, naming the key.
    public convenience init(config: JSONValue) throws {
        self.init(settings: try NotifySettings.read(config))
    }

    public func handle(op: String, input: JSONValue, context: CallContext) async throws(CallFailure) -> JSONValue {
        // Every op here leaves the machine: a dry run never sends. It answers with the message as it would
        // go (the input as the kernel rendered and checked it; secrets in it are masked by the kernel).
        if context.dryRun && ops.contains(op) {
            try checkServer(op: op, input)
            return ["dry_run": true, "sent": false, "message": input]
        }
        switch op {
        case "webhook": return try await webhook(input, context: context)
        case "email": return try await email(input, context: context)
        case "redis.xadd": return try await redisXAdd(input, context: context)
        case "redis.publish": return try await redisPublish(input, context: context)
        case "nats.publish": return try await natsPublish(input, context: context)
        default: throw CallFailure(.notFound, "unknown op \"\(op)\" in notify-mq", details: ["op": .string(op)])
        }
    }

    /// What a dry run can tell without sending: the server the message names is configured (the same
    /// `not_found` as a real call's).
    func checkServer(op: String, _ input: JSONValue) throws(CallFailure) {
        let given = try OpInput(op: op, input, allowed: Set(input.objectValue?.keys.map { $0 } ?? []))
        switch op {
        case "email": _ = try given.server("server", in: settings.smtp, kind: "smtp")
        case "redis.xadd", "redis.publish": _ = try given.server("server", in: settings.redis, kind: "redis")
        case "nats.publish": _ = try given.server("server", in: settings.nats, kind: "nats")
        default: break  // a webhook names a URL; the layer's allowlist is judged when it connects
        }
    }
}
