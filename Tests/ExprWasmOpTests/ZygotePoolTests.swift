import JALMWire
import Testing
@testable import jalm_layer_compute_script

/// The pool of zygotes when a zygote cannot start: a run fails at once with a reason, never hangs.
@Suite struct ZygotePoolTests {
    @Test func aZygoteThatCannotStartFailsTheRunInsteadOfHanging() async throws {
        let pool = ZygotePool(count: 1, argv: ["/bin/false"])
        let request = try RunRequest.parse(["language": "python3", "code": "pass"], settings: ScriptSettings(),
                                           available: ["python3": "/usr/bin/python3"])
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let (reply, _) = await pool.run(request, deadline: .now + .seconds(30))
            #expect(reply["t"] == "error" && reply["message"]?.stringValue?.contains("cannot start") == true, "\(reply)")
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }
}
