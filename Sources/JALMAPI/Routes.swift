import Hummingbird
import JALMCore
import JALMKernel
import JALMWire

/// The API, the same on the Unix socket and on TCP.
public enum Routes {
    public static func router(commands: KernelCommands, token: String?) -> Router<PeerRequestContext> {
        let router = Router(context: PeerRequestContext.self)
        if let token { router.add(middleware: BearerTokenMiddleware(token: token)) }
        let handlers = Handlers(commands: commands)
        router.get("/") { _, _ in handlers.root() }
        router.get("/health") { _, _ in handlers.health() }
        router.post("/exec") { request, _ in await handlers.submit(request) }
        router.post("/lint") { request, _ in await handlers.lint(request) }
        router.get("/exec") { request, _ in handlers.list(request) }
        router.get("/exec/:id") { _, context in handlers.view(context.parameters.get("id") ?? "") }
        router.post("/exec/:id/cancel") { _, context in await handlers.cancel(context.parameters.get("id") ?? "") }
        router.get("/layers") { _, _ in handlers.layers() }
        router.get("/layers/:name") { _, context in handlers.layer(context.parameters.get("name") ?? "") }
        router.get("/layers/:name/sandbox") { _, context in handlers.sandbox(context.parameters.get("name") ?? "") }
        router.post("/layers/:name/swap") { request, context in
            await handlers.swap(context.parameters.get("name") ?? "", request, by: await context.peer())
        }
        router.post("/layers/:name/rollback") { request, context in
            await handlers.rollback(context.parameters.get("name") ?? "", request, by: await context.peer())
        }
        router.post("/layers/:name/restart") { _, context in handlers.restart(context.parameters.get("name") ?? "") }
        router.get("/catalog") { _, _ in JSONResponse.make(commands.catalogJSON) }
        router.get("/schema/capsule.json") { _, _ in
            JSONResponse.make(commands.capsuleSchema, contentType: "application/schema+json")
        }
        return router
    }
}
