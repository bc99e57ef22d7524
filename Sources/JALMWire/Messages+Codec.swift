// Hand-written encoders and decoders: the hot path (call/ok) costs one JSON parse or write of the
// payload and no Codable machinery (DESIGN.md measured Codable at ~6 µs per message).

extension KernelMessage {
    /// Appends this message as one complete frame to `out`.
    public func encodeFrame(into out: inout [UInt8]) {
        Frame.build(into: &out) { out in
            switch self {
            case .call(let c):
                out.append(contentsOf: #"{"t":"call","id":"#.utf8)
                out.append(contentsOf: String(c.id).utf8)
                out.append(contentsOf: #","op":"#.utf8)
                JSONWriter.writeString(c.op, into: &out)
                out.append(contentsOf: #","deadline_ms":"#.utf8)
                out.append(contentsOf: String(c.deadlineMs).utf8)
                if let t = c.traceID { out.append(contentsOf: #","trace_id":"#.utf8); JSONWriter.writeString(t, into: &out) }
                if let k = c.idempotencyKey {
                    out.append(contentsOf: #","idempotency_key":"#.utf8)
                    JSONWriter.writeString(k, into: &out)
                }
                if c.dryRun { out.append(contentsOf: #","dry_run":true"#.utf8) }
                out.append(contentsOf: #","input":"#.utf8)
                JSONWriter.write(c.input, into: &out)
                out.append(UInt8(ascii: "}"))
            case .cancel(let id):
                out.append(contentsOf: #"{"t":"cancel","id":\#(id)}"#.utf8)
            case .ping(let seq):
                out.append(contentsOf: #"{"t":"ping","seq":\#(seq)}"#.utf8)
            case .pong(let seq):
                out.append(contentsOf: #"{"t":"pong","seq":\#(seq)}"#.utf8)
            case .drain:
                out.append(contentsOf: #"{"t":"drain"}"#.utf8)
            }
        }
    }

    public static func decode(_ body: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSONParser.defaultMaxDepth)
        throws -> KernelMessage
    {
        let v = try JSONParser.parse(body, maxDepth: maxDepth)
        guard case .object(let o) = v, let t = o["t"]?.stringValue else { throw MessageError("message without \"t\"") }
        switch t {
        case "call":
            return .call(Call(
                id: try o.requiredID("id"),
                op: try o.required("op", \.stringValue, "a string"),
                input: o["input"] ?? .null,
                deadlineMs: o["deadline_ms"]?.intValue ?? 0,
                traceID: o["trace_id"]?.stringValue,
                idempotencyKey: o["idempotency_key"]?.stringValue,
                dryRun: o["dry_run"]?.boolValue ?? false))
        case "cancel": return .cancel(id: try o.requiredID("id"))
        case "ping": return .ping(seq: try o.requiredID("seq"))
        case "pong": return .pong(seq: try o.requiredID("seq"))
        case "drain": return .drain
        default: throw MessageError("unknown message type \"\(t)\"")
        }
    }
}

extension LayerMessage {
    public func encodeFrame(into out: inout [UInt8]) {
        Frame.build(into: &out) { out in
            switch self {
            case .hello(let h):
                JSONWriter.write([
                    "t": "hello", "layer": .string(h.layer), "version": .string(h.version),
                    "ops": .array(h.ops.map { .string($0) }), "protocol": .int(Int64(h.protocolVersion)),
                    "pid": .int(Int64(h.pid)), "max_inflight": .int(Int64(h.maxInflight)),
                ], into: &out)
            case .ok(let id, let output, let meta):
                out.append(contentsOf: #"{"t":"ok","id":"#.utf8)
                out.append(contentsOf: String(id).utf8)
                if let meta { out.append(contentsOf: #","meta":"#.utf8); JSONWriter.write(meta, into: &out) }
                out.append(contentsOf: #","output":"#.utf8)
                JSONWriter.write(output, into: &out)
                out.append(UInt8(ascii: "}"))
            case .err(let id, let f):
                var o: [String: JSONValue] = [
                    "t": "err", "id": .int(Int64(id)), "code": .string(f.code.rawValue), "message": .string(f.message),
                    "retryable": .bool(f.retryable),
                ]
                if let d = f.details { o["details"] = d }
                JSONWriter.write(.object(o), into: &out)
            case .ping(let seq):
                out.append(contentsOf: #"{"t":"ping","seq":\#(seq)}"#.utf8)
            case .pong(let seq):
                out.append(contentsOf: #"{"t":"pong","seq":\#(seq)}"#.utf8)
            case .log(let r):
                JSONWriter.write([
                    "t": "log", "level": .string(r.level), "message": .string(r.message), "fields": .object(r.fields),
                ], into: &out)
            }
        }
    }

    public static func decode(_ body: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSONParser.defaultMaxDepth)
        throws -> LayerMessage
    {
        let v = try JSONParser.parse(body, maxDepth: maxDepth)
        guard case .object(let o) = v, let t = o["t"]?.stringValue else { throw MessageError("message without \"t\"") }
        switch t {
        case "hello":
            guard case .array(let ops)? = o["ops"] else { throw MessageError("hello: \"ops\" must be an array") }
            return .hello(Hello(
                layer: try o.required("layer", \.stringValue, "a string"),
                version: try o.required("version", \.stringValue, "a string"),
                ops: try ops.map { guard let s = $0.stringValue else { throw MessageError("hello: ops must be strings") }; return s },
                protocolVersion: Int(try o.required("protocol", \.intValue, "an integer")),
                pid: Int32(clamping: o["pid"]?.intValue ?? 0),
                maxInflight: Int(clamping: o["max_inflight"]?.intValue ?? 1)))
        case "ok":
            return .ok(id: try o.requiredID("id"), output: o["output"] ?? .null, meta: o["meta"])
        case "err":
            let codeText = try o.required("code", \.stringValue, "a string")
            // An unknown code from a plugin is its bug, reported as internal rather than trusted.
            let code = ErrorCode(rawValue: codeText) ?? .internal
            let message = o["message"]?.stringValue ?? codeText
            return .err(id: try o.requiredID("id"), CallFailure(
                code, code.rawValue == codeText ? message : "\(codeText): \(message)",
                retryable: o["retryable"]?.boolValue, details: o["details"]))
        case "ping": return .ping(seq: try o.requiredID("seq"))
        case "pong": return .pong(seq: try o.requiredID("seq"))
        case "log":
            return .log(LogRecord(
                level: o["level"]?.stringValue ?? "info", message: o["message"]?.stringValue ?? "",
                fields: o["fields"]?.objectValue ?? [:]))
        default: throw MessageError("unknown message type \"\(t)\"")
        }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    func required<T>(_ key: String, _ get: (JSONValue) -> T?, _ what: String) throws -> T {
        guard let v = self[key], let t = get(v) else { throw MessageError("\"\(key)\" must be \(what)") }
        return t
    }

    func requiredID(_ key: String) throws -> UInt64 {
        guard let i = self[key]?.intValue, i >= 0 else { throw MessageError("\"\(key)\" must be a non-negative integer") }
        return UInt64(i)
    }
}
