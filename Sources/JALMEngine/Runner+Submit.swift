import JALMCapsule
import JALMCore
import JALMDocument
import JALMStore
import JALMWire

/// A submission's answer.
public struct Submission: Sendable {
    public var id: String
    /// The key was used before for the same capsule: this is the execution it created.
    public var replayed: Bool
}

extension Runner {
    /// Parses, checks and starts a capsule. With `acknowledge` (the caller answers at once), returns once
    /// the execution is on disk; without (the caller waits for the end), returns at once, and the caller
    /// flushes the journal before telling anyone the id. A submission with an idempotency key always waits
    /// for its row: the key's uniqueness is decided there.
    public func submit(body: [UInt8], contentType: String?, idempotencyKey key: String?, acknowledge: Bool,
                       dryRun: Bool = false) async throws(RunnerError) -> Submission
    {
        await waitForRecovery()
        guard table.withLock({ $0.accepting }) else {
            throw RunnerError(.layerUnavailable, "jalmd is shutting down and accepts no new executions")
        }
        if key != nil, dryRun {
            // A replay compares bytes only: a dry run and the real run of one capsule would share the key.
            throw RunnerError(.invalidInput, "a dry run takes no Idempotency-Key: it is never the execution a key stands for",
                              pointer: "/dry_run")
        }
        // From here on the capsule is its expansion (fragments spliced in): what is planned, journaled, and
        // compared with a key's earlier submission, since a key stands for the capsule as it runs.
        let submitted = try expandIncludes(body: body, contentType: contentType)
        guard let key else { return try await decide(submitted, key: nil, acknowledge: acknowledge, dryRun: dryRun) }
        try IdempotencyKey.check(key)
        let body = submitted.body
        // One submission per key at a time in this jalmd: the live table then only ever holds a keyed
        // execution whose submission is on disk, so a replay never answers with one that is not journaled.
        await takeTurn(key)
        defer { passTurn(key) }
        if let earlier = try earlierSubmission(key: key, body: body) { return earlier }
        return try await decide(submitted, key: key, acknowledge: acknowledge, dryRun: dryRun)
    }

    /// Plans, registers and starts a new execution (the key, if any, is this submission's to decide).
    private func decide(_ submitted: IncludeExpansion, key: String?, acknowledge: Bool, dryRun: Bool)
        async throws(RunnerError) -> Submission
    {
        let body = submitted.body
        let plan = try check(submitted)
        let capsule = plan.capsule
        let at = now()
        let id = ExecutionID.make(now: at)
        let x = LiveExecution(header: .init(id: id, intent: capsule.intent, idempotencyKey: key), plan: plan,
                              document: body, owner: journal.owner, machine: ExecutionMachine(id: id, plan: plan, dryRun: dryRun),
                              created: false)
        if let other = register(x, key: key), let key { return try replay(other, key: key, body: body) }
        if let key {
            // The key is ours among live executions now. An earlier holder may have ended and left the table
            // between the look-up above and the registration: the journal has it, committed before it left.
            let earlier: Submission?
            do { earlier = try storedSubmission(key: key, body: body) } catch {
                unregister(x)
                throw error
            }
            if let earlier {
                unregister(x)
                return earlier
            }
        }
        guard acknowledge || key != nil else {
            deliver(.start(acknowledge: false, at: at), to: x)
            return Submission(id: id, replayed: false)
        }
        let error: RunnerError? = await withCheckedContinuation { c in
            x.state.withLock { $0.acknowledgements.append(c) }
            deliver(.start(acknowledge: true, at: at), to: x)
        }
        if let error {
            // Another jalmd's execution took the key between our look-up and our write: answer with it. Only
            // the journal knows it (the live table may hold a submission whose own write is still pending).
            if let key, error.code == .conflict, let earlier = try storedSubmission(key: key, body: body) {
                return earlier
            }
            throw error
        }
        return Submission(id: id, replayed: false)
    }

    /// Waits until no other submission with `key` is being decided in this jalmd, then holds the key.
    func takeTurn(_ key: String) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = table.withLock { t -> Bool in
                guard t.keyTurns[key] != nil else {
                    t.keyTurns[key] = []
                    return true
                }
                t.keyTurns[key]!.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Hands the key to the next waiting submission, or frees it.
    func passTurn(_ key: String) {
        let next = table.withLock { t -> CheckedContinuation<Void, Never>? in
            guard var waiting = t.keyTurns[key] else { return nil }
            if waiting.isEmpty {
                t.keyTurns[key] = nil
                return nil
            }
            let first = waiting.removeFirst()
            t.keyTurns[key] = waiting
            return first
        }
        next?.resume()
    }

    /// Every check a submission passes before it runs: its includes, the plan (below) and the secrets it
    /// names, set on this daemon. `POST /lint` is this alone.
    public func check(body: [UInt8], contentType: String?) throws(RunnerError) -> Plan {
        try check(expandIncludes(body: body, contentType: contentType))
    }

    func check(_ submitted: IncludeExpansion) throws(RunnerError) -> Plan {
        let plan = try plan(submitted)
        do { _ = try StepInput.values(of: plan.capsule.secretNames, from: secrets) } catch {
            throw RunnerError(.invalidInput, error.message, pointer: error.pointer)
        }
        return plan
    }

    /// The capsule parsed, checked against the catalog and the ops the layers announce, and planned; from
    /// the cache when the same bytes were planned against the same ops before. The bytes are the expanded
    /// document, so that a changed fragment file is never served an old plan.
    func plan(body: [UInt8], contentType: String?) throws(RunnerError) -> Plan {
        let generation = layers.announcedOpsGeneration
        if let plan = plans.plan(for: body, contentType: contentType, generation: generation) { return plan }
        let capsule = try CapsuleParser.parse(Document.parse(body, contentType: contentType),
                                              defaultOps: catalog.defaultOps)
        try CapsuleValidator(catalog: catalog, announcedOps: layers.announcedOps).validate(capsule)
        let plan = try Plan(capsule: capsule, catalog: catalog)
        plans.remember(plan, for: body, contentType: contentType, generation: generation)
        return plan
    }

    /// Puts `x` among the live executions, unless a live one holds `key` (then returns it).
    func register(_ x: LiveExecution, key: String?) -> LiveExecution? {
        table.withLock { t -> LiveExecution? in
            if let key, let other = t.keys[key] { return other }
            t.live[x.id] = x
            if let key { t.keys[key] = x }
            return nil
        }
    }

    /// Takes `x` out of the live table (it was never journaled).
    func unregister(_ x: LiveExecution) {
        table.withLock { t in
            if t.live[x.id] === x { t.live[x.id] = nil }
            if let key = x.header.idempotencyKey, t.keys[key] === x { t.keys[key] = nil }
        }
    }

    /// The execution an earlier submission with `key` created, within the retention window.
    func earlierSubmission(key: String, body: [UInt8]) throws(RunnerError) -> Submission? {
        if let x = table.withLock({ $0.keys[key] }) { return try replay(x, key: key, body: body) }
        return try storedSubmission(key: key, body: body)
    }

    /// The committed execution that holds `key` within the retention window, from the journal alone.
    func storedSubmission(key: String, body: [UInt8]) throws(RunnerError) -> Submission? {
        let windowStart = now() - settings.idempotencyRetention.milliseconds
        guard let stored = try journal.submission(idempotencyKey: key, notBefore: windowStart) else { return nil }
        guard stored.document == body else { throw IdempotencyKey.reused(key, by: stored.executionID) }
        return Submission(id: stored.executionID, replayed: true)
    }

    func replay(_ x: LiveExecution, key: String, body: [UInt8]) throws(RunnerError) -> Submission {
        guard x.document == body else { throw IdempotencyKey.reused(key, by: x.id) }
        return Submission(id: x.id, replayed: true)
    }
}

/// The `Idempotency-Key` of a submission.
enum IdempotencyKey {
    static let maxLength = 255

    /// 1 to 255 visible ASCII characters, as the IETF draft for the header suggests for opaque keys.
    static func check(_ key: String) throws(RunnerError) {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RunnerError(.invalidInput, "Idempotency-Key must be 1 to \(maxLength) visible ASCII characters",
                              details: ["header": "Idempotency-Key"])
        }
    }

    static func reused(_ key: String, by id: String) -> RunnerError {
        RunnerError(.conflict, "Idempotency-Key \"\(key)\" was first used for another capsule (execution \(id)); "
            + "a new capsule needs a new key", pointer: "", details: ["execution_id": .string(id), "header": "Idempotency-Key"])
    }
}
