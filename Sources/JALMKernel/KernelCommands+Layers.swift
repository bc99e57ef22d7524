import JALMCore
import JALMStore
import JALMSupervisor
import JALMWire

extension KernelCommands {
    /// `GET /layers`: every layer, by name.
    public func layers() -> [JSONValue] {
        kernel.layers.keys.sorted().map { kernel.layers[$0]!.snapshot() }
    }

    /// `not_found`, naming the layers there are, unless there is a layer `name`.
    public func checkLayer(_ name: String) throws(RunnerError) {
        _ = try supervisor(name)
    }

    /// `GET /layers/{name}`: the layer with its last 20 events.
    public func layer(_ name: String) throws(RunnerError) -> JSONValue {
        var view = try supervisor(name).snapshot()
        if case .object(var o) = view {
            let events = (try? kernel.journal.layerEvents(layer: name, limit: 20)) ?? []
            o["events"] = .array(events.map {
                ["at": .int($0.at), "event": .string($0.event), "detail": $0.detail ?? .null]
            })
            view = .object(o)
        }
        return view
    }

    /// `GET /layers/{name}/sandbox`: how the layer is confined, with the launcher's command line.
    public func sandbox(_ name: String) throws(RunnerError) -> JSONValue {
        let l = try supervisor(name)
        guard let c = l.confinement else {
            return ["layer": .string(name), "mode": "off", "detail": "sandbox: off — plugins run unconfined"]
        }
        return c.json(executable: l.executablePath, arguments: l.manifest.arguments)
    }

    /// `POST /layers/{name}/swap`: `request` names another `binary` for the layer's manifest, or another
    /// `manifest`; the old generation has `timeout` to drain. Returns the swap record.
    public func swap(_ name: String, request: JSONValue, timeout: Duration, by who: String) async throws(RunnerError)
        -> JSONValue
    {
        let l = try supervisor(name)
        let manifest = try SwapManifest.resolve(request, current: l.manifest)
        return try await l.swap(to: manifest, timeout: timeout, by: who)
    }

    /// `POST /layers/{name}/rollback`: back to the generation before the last swap.
    public func rollback(_ name: String, timeout: Duration, by who: String) async throws(RunnerError) -> JSONValue {
        try await supervisor(name).rollback(timeout: timeout, by: who)
    }

    /// `POST /layers/{name}/restart`: lifts a quarantine or restarts a layer that is down; returns the layer.
    public func restart(_ name: String) throws(RunnerError) -> JSONValue {
        let l = try supervisor(name)
        l.restart()
        return l.snapshot()
    }

    private func supervisor(_ name: String) throws(RunnerError) -> LayerSupervisor {
        guard let l = kernel.layers[name] else {
            throw RunnerError(.notFound, "no layer \"\(name)\"; layers are: \(kernel.layers.keys.sorted().joined(separator: ", "))")
        }
        return l
    }
}
