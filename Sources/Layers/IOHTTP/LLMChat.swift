import JALMLayerKit
import JALMNet
import JALMWire

/// `llm.chat`: POST `{base_url}/chat/completions` in the OpenAI format and return the first choice's
/// message with the token usage. A preset over `request`: the same guard, limits and timing.
///
/// The API key comes from the input (`api_key: "{{ secrets.openai }}"`, masked by the kernel) or from the
/// layer setting `llm.api_key` (`{secret: NAME}` in jalmd.yml); it is sent as `Authorization: Bearer` and
/// never appears in outputs or error details.
enum LLMChat {
    static let keys: Set = ["base_url", "model", "messages", "temperature", "max_tokens", "api_key", "timeout_ms",
                            "connect_timeout_ms", "max_response_bytes"]

    static func run(_ raw: JSONValue, handler: IOHTTPHandler, context: CallContext) async throws(CallFailure) -> JSONValue {
        let input = try OpInput(op: "llm.chat", raw, allowed: keys)
        let defaults = handler.settings.llm
        guard let baseURL = input.has("base_url") ? try input.string("base_url") : defaults.baseURL else {
            throw input.invalid("base_url", "is required (or set layers.io-http.llm.base_url)")
        }
        guard let model = input.has("model") ? try input.string("model") : defaults.model else {
            throw input.invalid("model", "is required (or set layers.io-http.llm.model)")
        }
        guard let messages = input.fields["messages"]?.arrayValue, !messages.isEmpty else {
            throw input.invalid("messages", "must be a non-empty list of {role, content}")
        }
        for (i, m) in messages.enumerated() {
            guard m["role"]?.stringValue != nil, m["content"] != nil else {
                throw CallFailure(.invalidInput, "io-http.llm.chat: messages[\(i)] needs a string role and a content",
                                  details: ["pointer": .string("/messages/\(i)")])
            }
        }
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages)]
        if let t = input.fields["temperature"], !t.isNull {
            guard let d = t.doubleValue, (0...2).contains(d) else { throw input.invalid("temperature", "must be a number from 0 to 2") }
            body["temperature"] = .double(d)
        }
        if input.has("max_tokens") {
            body["max_tokens"] = .int(Int64(try input.int("max_tokens", default: 0, in: 1...1_000_000)))
        }
        var request: [String: JSONValue] = [
            "method": "POST", "url": .string(trimSlash(baseURL) + "/chat/completions"), "json": .object(body),
            "fail_on_status": "any", "response_body": "json",
        ]
        for key in ["timeout_ms", "connect_timeout_ms", "max_response_bytes"] { request[key] = input.fields[key] }
        let apiKey = input.has("api_key") ? try input.string("api_key") : defaults.apiKey
        if let apiKey, !apiKey.isEmpty { request["headers"] = ["Authorization": .string("Bearer " + apiKey)] }
        // The chat call changes nothing in the world: no idempotency header (the step is side_effect: read).
        let noKey = CallContext(callID: context.callID, deadline: context.deadline, traceID: context.traceID,
                                dryRun: context.dryRun)
        let parsed = try RequestInput(OpInput(op: "llm.chat", .object(request), allowed: RequestInput.requestKeys),
                                      settings: handler.settings, context: noKey)
        let output = try await handler.run(parsed, op: "llm.chat")
        return try answer(output)
    }

    /// The first choice's message, its finish reason and the usage, from the completion JSON.
    static func answer(_ output: JSONValue) throws(CallFailure) -> JSONValue {
        let completion = output["body"] ?? .null
        guard let message = completion["choices"]?[0]?["message"], message["role"] != nil else {
            throw CallFailure(.upstreamError, "io-http.llm.chat: the completion has no choices[0].message", retryable: false,
                              details: ["reason": "bad_completion"])
        }
        let usage = completion["usage"] ?? .null
        return [
            "message": message,
            "content": message["content"] ?? .null,
            "finish_reason": completion["choices"]?[0]?["finish_reason"] ?? .null,
            "model": completion["model"] ?? .null,
            "usage": [
                "prompt_tokens": usage["prompt_tokens"] ?? .null,
                "completion_tokens": usage["completion_tokens"] ?? .null,
                "total_tokens": usage["total_tokens"] ?? .null,
            ],
            "meta": output["meta"] ?? .null,
        ]
    }

    static func trimSlash(_ s: String) -> String {
        var t = Substring(s)
        while t.hasSuffix("/") { t = t.dropLast() }
        return String(t)
    }
}
