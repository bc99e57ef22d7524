import Hummingbird
import JALMCore

/// Requires `Authorization: Bearer <token>` on every request (used on the TCP listener when a token is set).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let expected = "Bearer " + token
        guard let given = request.headers[.authorization], constantTimeEqual(given, expected) else {
            return Problem.response(RunnerError(.invalidInput, "a bearer token is required on this listener"),
                                    status: .unauthorized)
        }
        return try await next(request, context)
    }

    /// Compares without an early exit so timing does not reveal how much of a guess was right.
    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
