import JALMCore
import JALMStore
import JALMWire
import Testing

@Suite struct StepRunTests {
    @Test func jsonColumnsRoundTrip() async throws {
        try await withStore { store, _ in
            let nested: JSONValue = [
                "unicode": "héllo wörld 🌍 中文 \u{1F600} \"quoted\" \\ back\nslash",
                "big": .int(Int64.max), "small": .int(Int64.min), "pi": 3.25, "flag": true, "nothing": nil,
                "list": [1, "two", [3, ["four": 4]], .object([:]), .array([])],
                "deep": ["a": ["b": ["c": ["d": "e"]]]],
            ]
            var run = stepRun("ex_1")
            run.input = nested
            run.output = .array([nested, nested])
            run.error = .string("plain string error")
            run.layerPID = 4242
            run.pluginVersion = "1.2.3"
            run.idempotencyKey = "ex_1/s0/1"
            run.dispatchedAt = 5
            run.finishedAt = 6
            try await store.commit([.insertExecution(execution("ex_1")), .upsertStepRun(run)])
            #expect(try store.stepRuns(executionID: "ex_1") == [run])
        }
    }

    @Test func upsertOfTheSameAttemptReplacesIt() async throws {
        try await withStore { store, _ in
            var run = stepRun("ex_1")
            try await store.commit([.insertExecution(execution("ex_1")), .upsertStepRun(run)])
            run.state = "dispatched"
            run.dispatchedAt = 11
            store.submit([.upsertStepRun(run)])
            run.state = "ok"
            run.output = ["n": 1]
            run.finishedAt = 12
            try await store.commit([.upsertStepRun(run)])
            #expect(try store.stepRuns(executionID: "ex_1") == [run])
        }
    }

    @Test func stepRunsAreOrderedByStepIndexThenAttempt() async throws {
        try await withStore { store, _ in
            try await store.commit([
                .insertExecution(execution("ex_1")),
                .upsertStepRun(stepRun("ex_1", index: 1, attempt: 2)),
                .upsertStepRun(stepRun("ex_1", index: 0, attempt: 1)),
                .upsertStepRun(stepRun("ex_1", index: 1, attempt: 1)),
            ])
            let keys = try store.stepRuns(executionID: "ex_1").map { [$0.stepIndex, $0.attempt] }
            #expect(keys == [[0, 1], [1, 1], [1, 2]])
        }
    }

    @Test func stepRunOfAMissingExecutionViolatesTheForeignKey() async throws {
        try await withStore { store, _ in
            let error = await #expect(throws: RunnerError.self) {
                try await store.commit([.upsertStepRun(stepRun("ex_none"))])
            }
            #expect(error?.message.contains("FOREIGN KEY") == true)
        }
    }
}
