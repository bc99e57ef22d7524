import Testing
import JALMWire
@testable import JALMCore

@Suite struct RetryRuleTests {
    @Test func delaysGrowByTheFactorAndStopAtMax() {
        let r = RetryRule(max: 3, base: .milliseconds(100), factor: 2, maxDelay: .seconds(10), jitter: 0)
        #expect(r.delay(after: 1, code: .timeout, unit: 0) == .milliseconds(100))
        #expect(r.delay(after: 2, code: .timeout, unit: 0) == .milliseconds(200))
        #expect(r.delay(after: 3, code: .timeout, unit: 0) == .milliseconds(400))
        #expect(r.delay(after: 4, code: .timeout, unit: 0) == nil)
    }

    @Test func delaysAreCappedAndJittered() {
        let r = RetryRule(max: 10, base: .seconds(1), factor: 10, maxDelay: .seconds(5), jitter: 0.5)
        #expect(r.delay(after: 3, code: .timeout, unit: 0) == .seconds(5))
        #expect(r.delay(after: 3, code: .timeout, unit: 1) == .milliseconds(2500))
    }

    @Test func onlyRetryableOrListedCodesAreRetried() {
        let r = RetryRule(max: 2)
        #expect(r.delay(after: 1, code: .invalidInput, unit: 0) == nil)
        let listed = RetryRule(max: 2, retryOn: [.notFound])
        #expect(listed.delay(after: 1, code: .notFound, unit: 0) != nil)
        #expect(listed.delay(after: 1, code: .timeout, unit: 0) == nil)
    }

    @Test func writesAreNotRetriedByDefault() {
        #expect(RetryRule.default(for: .write).delay(after: 1, code: .timeout, unit: 0) == nil)
        #expect(RetryRule.default(for: .read).delay(after: 1, code: .timeout, unit: 0) != nil)
    }
}

@Suite struct RetryFlagTests {
    @Test func aFailureThatSaysItIsNotRetryableIsNotRetriedByDefault() {
        let r = RetryRule(max: 2)
        #expect(r.delay(after: 1, code: .timeout, retryable: false, unit: 0) == nil)
        #expect(r.delay(after: 1, code: .internal, retryable: true, unit: 0) != nil)
    }

    @Test func limitsAreNotRetryable() {
        #expect(!ErrorCode.resourceExhausted.retryable)
        #expect(RetryRule(max: 2).delay(after: 1, code: .resourceExhausted, unit: 0) == nil)
    }
}
