import JALMCore
@testable import JALMEngine
import JALMStore
import JALMWire

/// A deterministic world for the machine: a journal that keeps what is written (a crash keeps a prefix),
/// layers that answer each attempt as a script says, timers that fire in order, and a clock that ticks
/// once per input. It can crash after any command and restart from the journal alone.
struct Simulator {
    let plan: Plan
    /// Outcomes per step id, by attempt (the last one repeats); a step not named returns `{"from": id}`.
    var script: [String: [StepOutcome]] = [:]
    /// Inputs injected when the clock reaches a time (e.g. a cancel).
    var injections: [Int64: MachineInput] = [:]

    /// What a run left behind.
    struct Trace {
        var journal: [JournalEntry] = []
        /// Every call that went out: (step, attempt). A call is a side effect in the world.
        var calls: [(step: StepRef, attempt: Int)] = []
        /// The same calls as the layers got them.
        var stepCalls: [StepCall] = []
        var finished: (ExecutionState, RunnerError?)?
        var acknowledged = false
        var commandCount = 0
        /// At each crash: how many journal entries and calls there were.
        var crashes: [(journal: Int, calls: Int)] = []
        var machine: ExecutionMachine?
    }

    /// Runs until the execution is finished (or `crashAfter` commands were performed); then, if it crashed,
    /// restarts from the journal, as many times as `crashAfter` lists.
    func run(crashAfter crashes: [Int] = [], acknowledge: Bool = true) -> Trace {
        var trace = Trace()
        var machine = ExecutionMachine(id: Fixtures.id, plan: plan)
        var queue: [MachineInput] = [.start(acknowledge: acknowledge, at: 1000)]
        var clock: Int64 = 1000
        var pendingCrashes = crashes
        // The deadline timer (meta.timeout): fires once the clock reaches it.
        var deadline: Int64?
        // Until nothing is left to happen; a machine left unfinished then is stuck (the tests check).
        while !queue.isEmpty, trace.commandCount < 100_000 {
            let input = queue.removeFirst()
            clock += 1
            if let injected = injections[clock] { queue.append(injected) }
            if let due = deadline, clock >= due {
                queue.append(.deadline(at: clock))
                deadline = nil
            }
            let commands = machine.handle(input.at(clock))
            for command in commands {
                if case .startDeadline(let due) = command { deadline = due }
                perform(command, trace: &trace, queue: &queue, machine: machine, clock: clock)
                trace.commandCount += 1
                if let c = pendingCrashes.first, trace.commandCount >= c {
                    pendingCrashes.removeFirst()
                    trace.crashes.append((journal: trace.journal.count, calls: trace.calls.count))
                    // kill -9: memory, queued replies and timers are gone; the journal and the world remain.
                    machine = ExecutionMachine(id: Fixtures.id, plan: plan)
                    machine.fold(trace.journal)
                    deadline = nil
                    clock += 1000
                    // Recovery reads only executions that have not ended.
                    if case .finished(let state, let error) = machine.state.phase {
                        trace.finished = (state, error)
                        queue = []
                    } else {
                        trace.finished = nil
                        queue = [.recovered(at: clock)]
                    }
                    break
                }
            }
        }
        trace.machine = machine
        return trace
    }

    /// The calls an uninterrupted run makes, by address.
    func callsMade() -> [(String, StepCall)] {
        run().stepCalls.map { (plan.address(of: $0.step), $0) }
    }

    private func perform(_ command: MachineCommand, trace: inout Trace, queue: inout [MachineInput],
                         machine: ExecutionMachine, clock: Int64) {
        switch command {
        case .journal(let entries, let durability):
            precondition(expectSequentialCheck(entries, after: trace.journal.last?.seq ?? 0), "a gap in the journal")
            trace.journal += entries
            if durability == .durable, let last = entries.last { queue.append(.journaled(upTo: last.seq, at: 0)) }
        case .dispatch(let call):
            trace.calls.append((call.step, call.attempt))
            trace.stepCalls.append(call)
            let id = plan.address(of: call.step)
            let outcomes = script[id] ?? [.ok(["from": .string(id)], Receipt(pid: 1, version: "t"))]
            let outcome = outcomes[min(call.attempt, outcomes.count) - 1]
            queue.append(.stepReturned(step: call.step, attempt: call.attempt, outcome: outcome, jitter: 0.5, at: 0))
        case .cancelCall(let step, let attempt):
            // The layer honours the cancel: its reply (already queued) is overtaken by a cancelled failure.
            queue.removeAll { if case .stepReturned(step, attempt, _, _, _) = $0 { true } else { false } }
            queue.append(.stepReturned(step: step, attempt: attempt,
                                       outcome: .failed(RunnerError(.cancelled, "cancelled"), Receipt()), jitter: 0, at: 0))
        case .startTimer(let step, let attempt, _):
            queue.append(.retryDue(step: step, attempt: attempt, at: 0))
        case .startDeadline:
            break  // run() keeps it and delivers it when the clock gets there
        case .acknowledge:
            trace.acknowledged = true
        case .finished(let state, let error):
            trace.finished = (state, error)
        }
    }
}

/// Journal entries must continue the history without a gap.
func expectSequentialCheck(_ entries: [JournalEntry], after last: Int) -> Bool {
    entries.enumerated().allSatisfy { $0.element.seq == last + 1 + $0.offset }
}

extension MachineInput {
    /// The same input at the simulator's clock.
    func at(_ t: Int64) -> MachineInput {
        switch self {
        case .start(let a, _): .start(acknowledge: a, at: t)
        case .stepReturned(let s, let n, let o, let j, _): .stepReturned(step: s, attempt: n, outcome: o, jitter: j, at: t)
        case .retryDue(let s, let n, _): .retryDue(step: s, attempt: n, at: t)
        case .cancel: .cancel(at: t)
        case .deadline: .deadline(at: t)
        case .journaled(let seq, _): .journaled(upTo: seq, at: t)
        case .recovered: .recovered(at: t)
        }
    }
}

/// The addresses of the calls a run made, in order.
func addresses(_ t: Simulator.Trace, _ plan: Plan) -> [String] { t.calls.map { plan.address(of: $0.step) } }

/// `GET /exec/{id}`'s view of where a run ended.
func view(_ t: Simulator.Trace) -> JSONValue { ExecutionView.json(.init(id: Fixtures.id, intent: "t"), machine: t.machine!) }
