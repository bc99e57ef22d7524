import Synchronization
import JALMCore
import JALMPlatform
import JALMWire

/// Where a candidate process of a swap is in its life: waiting to prove itself, adopted into a slot
/// (then its events go to normal supervision), or given up.
final class Candidate: Sendable {
    enum Phase {
        case waiting(CheckedContinuation<Result<Void, LayerSupervisor.Failure>, Never>?)
        case adopted(slot: Int)
        case abandoned
    }
    let phase = Mutex<Phase>(.waiting(nil))
    let process = Mutex<LayerProcess?>(nil)

    /// Ends the wait once, with `result`; later calls do nothing.
    func settle(_ result: Result<Void, LayerSupervisor.Failure>) {
        let waiter = phase.withLock { p -> CheckedContinuation<Result<Void, LayerSupervisor.Failure>, Never>? in
            guard case .waiting(let c) = p else { return nil }
            if case .failure = result { p = .abandoned } else { p = .waiting(nil) }
            return c
        }
        waiter?.resume(returning: result)
    }
}

extension LayerSupervisor {
    /// Replaces every process of the layer with one of `manifest`, under load: the new generation must
    /// start through the launcher, greet with every op the catalog routes here, pass the audit and answer
    /// a probe call; only then do new calls go to it. The old generation gets `drain` and finishes its calls
    /// in flight (bounded by `timeout`). If the new generation fails anywhere, the old keeps serving.
    /// Returns the swap record (also kept as a layer event).
    public func swap(to manifest: LayerManifest, timeout: Duration, by who: String) async throws(RunnerError) -> JSONValue {
        let started = ContinuousClock.now
        let (from, slots, leafOffset) = try beginSwap()
        let generation: Generation
        do {
            generation = Generation(manifest: manifest, confinement: try confine(manifest))
        } catch {
            endSwap()
            throw finish(record(from, manifest, "failed", "cannot confine the new generation: \(error)", 0, started, who))
        }
        var candidates: [(Candidate, LayerProcess)] = []
        var failure: String?
        for i in 0..<slots {
            switch await prove(generation, leafSlot: i + leafOffset) {
            case .success(let pair): candidates.append(pair)
            case .failure(let f): failure = f.description
            }
            if failure != nil { break }
        }
        if let failure {
            for (c, p) in candidates { c.settle(.failure(Failure("swap abandoned"))); p.channel.close(reason: "swap abandoned"); p.kill() }
            endSwap()
            throw finish(record(from, manifest, "failed", failure, 0, started, who))
        }
        let old = adopt(candidates, generation: generation, newLeafOffset: leafOffset)
        let drained = old.reduce(0) { $0 + $1.inflight }
        await drainOld(old, timeout: timeout)
        endSwap()
        var to = manifest
        if let announced = candidates.first?.1.hello?.version { to.version = announced }
        let rec = record(from, to, "ok", nil, drained, started, who)
        logger.notice("layer swapped", metadata: ["layer.from": "\(from.version)", "layer.to": "\(manifest.version)",
                                                  "layer.drained": "\(drained)"])
        return rec
    }

    /// Swaps back to the generation before the last swap.
    public func rollback(timeout: Duration, by who: String) async throws(RunnerError) -> JSONValue {
        guard let previous = state.withLock({ $0.previous }) else {
            throw RunnerError(.conflict, "\(name) has no previous generation to roll back to")
        }
        return try await swap(to: previous.manifest, timeout: timeout, by: who)
    }

    private func beginSwap() throws(RunnerError) -> (LayerManifest, Int, Int) {
        let r = state.withLock { s -> Result<(LayerManifest, Int, Int), RunnerError> in
            if s.stopping { return .failure(RunnerError(.layerUnavailable, "\(name) is shutting down")) }
            if s.swapping { return .failure(RunnerError(.conflict, "a swap of \(name) is already running")) }
            s.swapping = true
            return .success((s.current.manifest, s.slots.count, s.leafOffset == 0 ? 64 : 0))
        }
        return try r.get()
    }

    private func endSwap() { state.withLock { $0.swapping = false } }

    /// Starts one candidate and waits until it greeted, passed admission and answered a probe call.
    private func prove(_ generation: Generation, leafSlot: Int) async -> Result<(Candidate, LayerProcess), Failure> {
        let candidate = Candidate()
        let started = await startProcess(generation, leafSlot: leafSlot) { [self] event, p in
            self.route(event, from: p, candidate: candidate, confinement: generation.confinement)
        }
        guard case .success(let process) = started else {
            if case .failure(let f) = started { return .failure(f) }
            return .failure(Failure("cannot start"))
        }
        candidate.process.withLock { $0 = process }
        let greeted: Result<Void, Failure> = await withCheckedContinuation { c in
            candidate.phase.withLock { $0 = .waiting(c) }
            process.channel.start()
            Timers.shared.schedule(after: settings.helloTimeout) { [self] in
                candidate.settle(.failure(Failure("the new generation did not say hello within \(settings.helloTimeout)")))
            }
        }
        if case .failure(let f) = greeted {
            process.channel.close(reason: f.description)
            process.kill()
            return .failure(f)
        }
        // A probe call before any real one: a plugin that breaks its policy on its first call dies here.
        // Candidates are not swept for deadlines, so a timer bounds the probe.
        let probeTimer = Timers.shared.schedule(after: .seconds(5)) {
            process.channel.close(reason: "did not answer the probe call within 5 s")
        }
        defer { Timers.shared.cancel(probeTimer) }
        let outcome = await process.channel.call(op: "sys.echo", input: ["probe": "swap"], timeout: .seconds(5))
        if case .failed(let f) = outcome {
            candidate.settle(.failure(Failure("the new generation failed its probe call: \(f.message)")))
            process.channel.close(reason: "failed its probe call")
            process.kill()
            return .failure(Failure("the new generation failed its probe call: \(f.message)"))
        }
        return .success((candidate, process))
    }

    /// Events of a candidate: until adoption they decide the swap; after it, normal supervision.
    private func route(_ event: ChannelEvent, from process: LayerProcess, candidate: Candidate,
                       confinement: LayerConfinement?) {
        if case .adopted(let slot) = candidate.phase.withLock({ $0 }) {
            handle(event, from: process, slot: slot)
            return
        }
        switch event {
        case .hello(let h):
            // Another protocol version never gets here: the channel's PeerPolicy closes the connection first.
            if let (_, why) = admissionProblem(h, process, confinement: confinement) {
                candidate.settle(.failure(Failure("the new generation \(why)")))
            } else {
                process.greeted(h)
                candidate.settle(.success(()))
            }
        case .closed(let reason):
            candidate.settle(.failure(Failure("the new generation ended: \(reason); \(LayerProcess.describe(process.reap()))")))
        case .pong: process.ponged()
        case .log: break
        }
    }

    /// Makes the candidates the layer's processes in one step; returns the old ones, now draining.
    private func adopt(_ candidates: [(Candidate, LayerProcess)], generation: Generation,
                       newLeafOffset: Int) -> [LayerProcess] {
        let old = state.withLock { s -> [LayerProcess] in
            var old: [LayerProcess] = []
            for (i, (candidate, process)) in candidates.enumerated() {
                if let o = s.slots[i].process { old.append(o) }
                s.slots[i].process = process
                var machine = SupervisorStateMachine(policy: settings.restart)
                _ = machine.start()
                machine.spawned(at: .now)
                machine.greeted(at: .now)
                s.slots[i].machine = machine
                candidate.phase.withLock { $0 = .adopted(slot: i) }
            }
            s.previous = s.current
            s.current = generation
            s.leafOffset = newLeafOffset
            return old
        }
        wakeAll()
        return old
    }

    /// `drain` to the old generation; its calls in flight finish on it; stragglers are killed at `timeout`.
    private func drainOld(_ old: [LayerProcess], timeout: Duration) async {
        for p in old { p.channel.send(.drain) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, old.contains(where: { !$0.channel.isClosed }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for p in old where !p.channel.isClosed {
            p.channel.close(reason: "did not drain within \(timeout) after a swap")
            p.kill()
        }
    }

    private func record(_ from: LayerManifest, _ to: LayerManifest, _ result: String, _ reason: String?,
                        _ drained: Int, _ started: ContinuousClock.Instant, _ who: String) -> JSONValue {
        let d = ContinuousClock.now - started
        var o: [String: JSONValue] = [
            "from": .string("\(from.version) (\(executablePath(of: from)))"),
            "to": .string("\(to.version) (\(executablePath(of: to)))"),
            "result": .string(result), "drained_calls": .int(Int64(drained)), "by": .string(who),
            "duration_ms": .double(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15),
        ]
        if let reason { o["reason"] = .string(reason) }
        recordEvent("swap", .object(o))
        return .object(o)
    }

    private func finish(_ record: JSONValue) -> RunnerError {
        RunnerError(.invalidInput, "swap of \(name) failed, the old generation keeps serving: "
            + (record["reason"]?.stringValue ?? "unknown reason"), details: record)
    }
}

extension LayerSupervisor {
    /// The settings the next processes of this layer get (`JALM_LAYER_CONFIG`); a swap then starts them.
    public func reconfigure(layerConfig: JSONValue?) {
        reloadedConfig.withLock { $0 = .some(layerConfig) }
    }
}
