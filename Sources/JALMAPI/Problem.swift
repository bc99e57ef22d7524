import Hummingbird
import JALMCore
import JALMWire

/// RFC 9457 problem details: the one place where error codes become HTTP statuses.
public enum Problem {
    public static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidInput, .assertionFailed: .unprocessableContent
        case .notFound: .notFound
        case .timeout: .gatewayTimeout
        case .cancelled, .conflict: .conflict
        case .layerUnavailable: .serviceUnavailable
        case .protocolError, .upstreamError: .badGateway
        case .resourceExhausted: .contentTooLarge
        case .sandboxViolation, .internal, .unknown: .internalServerError
        }
    }

    public static func response(_ error: RunnerError, status: HTTPResponse.Status? = nil) -> Response {
        let status = status ?? self.status(for: error.code)
        var body: [String: JSONValue] = [
            "type": .string("urn:jalm:error:\(error.code.rawValue)"),
            "title": .string(status.reasonPhrase), "status": .int(Int64(status.code)),
            "detail": .string(error.message), "code": .string(error.code.rawValue),
        ]
        if let p = error.pointer { body["pointer"] = .string(p) }
        if let d = error.details { body["details"] = d }
        return JSONResponse.make(.object(body), status: status, contentType: "application/problem+json")
    }
}

enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok,
                     contentType: String = "application/json") -> Response {
        make(bytes: JSONWriter.bytes(value, sortedKeys: true), status: status, contentType: contentType)
    }

    /// A JSON body already written (keys sorted), with the newline every answer ends with.
    static func make(bytes: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "application/json")
        -> Response
    {
        var bytes = bytes
        bytes.append(0x0A)
        return Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
