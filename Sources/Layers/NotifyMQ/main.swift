import JALMLayerKit
import JALMWire

// The notify-mq layer: Redis, NATS, webhooks and email to the servers named in layers.notify-mq.
await LayerKit.serve(layer: "notify-mq", version: jalmVersion) { setup in
    try NotifyMQHandler(config: setup.config)
}
