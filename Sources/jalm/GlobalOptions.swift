import JALMClient
import ArgumentParser
import JALMWire

/// Options every command takes: where jalmd is and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Path of jalmd's Unix socket (default: $JALM_SOCKET, else ./.jalm/jalmd.sock if it exists, "
            + "else /run/jalm/jalmd.sock).",
        valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp(
        "Talk HTTP over TCP instead of the socket, e.g. http://127.0.0.1:8888.", valueName: "url"))
    var url: String?

    @Flag(name: .long, help: "Print the daemon's JSON answer as is (pretty), for scripts.")
    var json = false

    func validate() throws {
        if socket != nil, url != nil { throw ValidationError("pass either --socket or --url, not both") }
        if let url, case .failure(let error) = Endpoint.parse(url: url) {
            throw ValidationError("--url \(url): \(error.reason)")
        }
    }

    var endpoint: Endpoint {
        if let url, case .success(let endpoint) = Endpoint.parse(url: url) { return endpoint }
        return Endpoint.resolveSocket(option: socket)
    }

    /// A client for the daemon; `extraTimeout` is added to the 30 s budget for requests that wait on purpose.
    func api(extraTimeout: Double = 0) -> JalmAPI {
        let token = environment("JALM_TOKEN")
        return JalmAPI(client: UnixHTTPClient(endpoint: endpoint, timeout: 30 + extraTimeout, token: token))
    }

    /// Prints a JSON answer for scripts.
    func printJSON(_ value: JSONValue) {
        print(JSONWriter.pretty(value))
    }
}
